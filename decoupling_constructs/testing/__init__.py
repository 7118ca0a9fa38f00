"""Deploy a synthesized CDK stack into moto and look up what was deployed.

::

    from moto import mock_aws
    from decoupling_constructs.testing import deploy_to_moto

    with mock_aws():
        deployment = deploy_to_moto(stack)            # a cdk.Stack or a template dict
        url = deployment.queue_url(my_queue.queue)    # any L2, L1 or logical id
        sqs = deployment.client("sqs")

moto's CloudFormation silently skips several resource types (see
``COMPLETED_TYPES``). This helper never lets that pass silently: it completes
those resources after ``create_stack`` with public boto3 calls made from the
template's own properties, treats the types in ``NO_RUNTIME_BEHAVIOUR`` as
absent on purpose, and raises :class:`UnsupportedResourceError` naming any
other resource that moto did not create.

Without ``endpoint_url`` it refuses to run unless moto's in-process mock is
active, so a test can never deploy to a real account by mistake. With
``endpoint_url`` (a moto server, e.g. ``http://localhost:5000``) it talks HTTP.

The real ``cdk deploy`` into an emulator on 127.0.0.1 (MiniStack, or a moto server) is in
:mod:`decoupling_constructs.testing.emulators`; :func:`verify` reads every deployed resource back
through its service and reports what matches the template, what the emulator does not store, and
what does not match (:mod:`decoupling_constructs.testing.verify`).

Before a deploy, :func:`preflight` names what the chosen emulator will refuse or drop (:mod:`.preflight`).

The code is in three modules behind the names below: :mod:`.deploy` (deploying and reading a stack back),
:mod:`.completion` (what moto skips, completed) and :mod:`.lookup` (:class:`Deployment`).
"""

from __future__ import annotations

from .completion import COMPLETED_TYPES, CREATED_FIXUPS, LABELLED_COMPLETIONS, complete_http_subscriptions
from .deploy import (
    BOOTSTRAP_VERSION,
    BOOTSTRAP_VERSION_PARAMETER,
    complete_deployment,
    deploy_to_moto,
    describe_deployment,
)
from .emulators import Emulator, cdk_deploy, ministack, moto_server
from .lookup import NO_RUNTIME_BEHAVIOUR, Deployment, Json, UnsupportedResourceError
from .preflight import PreflightError, PreflightReport, preflight, templates_from
from .verify import NOT_STORED, Finding, VerificationError, VerificationReport, not_stored_for, verify

__all__ = [
    "BOOTSTRAP_VERSION",
    "BOOTSTRAP_VERSION_PARAMETER",
    "COMPLETED_TYPES",
    "CREATED_FIXUPS",
    "LABELLED_COMPLETIONS",
    "NOT_STORED",
    "NO_RUNTIME_BEHAVIOUR",
    "Deployment",
    "Emulator",
    "Finding",
    "Json",
    "PreflightError",
    "PreflightReport",
    "UnsupportedResourceError",
    "VerificationError",
    "VerificationReport",
    "cdk_deploy",
    "complete_deployment",
    "complete_http_subscriptions",
    "deploy_to_moto",
    "describe_deployment",
    "ministack",
    "moto_server",
    "not_stored_for",
    "preflight",
    "templates_from",
    "verify",
]
