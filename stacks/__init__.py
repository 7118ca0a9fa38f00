"""The reference app: one stack per pattern, each composed only of the library's constructs.

``REFERENCE_STACKS`` is the single list the app, the static checks and the
behaviour tests iterate over: a stack added here is linted, nag-checked and
synthesized by ``cdk synth`` without new test code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from .broker_stack import MessageBrokerStack
from .consumer_stack import ConsumerStack
from .fan_out_stack import FanOutStack
from .http_endpoint_stack import StreamToHttpEndpointStack
from .queue_stack import ReliableQueueStack
from .stream_processor_stack import StreamProcessorStack
from .stream_stack import StreamToS3Stack
from .workers_stack import QueueWorkersStack

# stack id (also its CloudFormation name) -> class
REFERENCE_STACKS: dict[str, Callable[..., cdk.Stack]] = {
    "DecouplingReliableQueue": ReliableQueueStack,
    "DecouplingFanOut": FanOutStack,
    "DecouplingStreamToS3": StreamToS3Stack,
    "DecouplingStreamToHttpEndpoint": StreamToHttpEndpointStack,
    "DecouplingMessageBroker": MessageBrokerStack,
    "DecouplingConsumers": ConsumerStack,
    "DecouplingQueueWorkers": QueueWorkersStack,
    "DecouplingStreamProcessor": StreamProcessorStack,
}


CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def app_context() -> dict[str, Any]:
    """cdk.json's context (feature flags): the CLI passes it to app.py, in-process apps must read it."""
    return dict(json.loads(CDK_JSON.read_text())["context"])


def build_reference_app(
    app: cdk.App | None = None,
    *,
    nag: bool = True,
    synthesizer: Callable[[], cdk.IStackSynthesizer] | None = None,
) -> tuple[cdk.App, dict[str, cdk.Stack]]:
    """Add every reference stack to ``app`` (default: a new App with cdk.json's feature flags),
    cdk-nag on unless ``nag=False``."""
    app = app or cdk.App(context=app_context())
    stacks: dict[str, cdk.Stack] = {}
    for stack_id, stack_class in REFERENCE_STACKS.items():
        kwargs = {"synthesizer": synthesizer()} if synthesizer else {}
        stacks[stack_id] = stack_class(app, stack_id, **kwargs)
    if nag:
        from cdk_nag import AwsSolutionsChecks  # only when asked: importing it costs ~0.15 s

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stacks


__all__ = ["REFERENCE_STACKS", "app_context", "build_reference_app"]
