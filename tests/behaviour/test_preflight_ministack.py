"""The preflight on a running MiniStack: an SSM parameter that a ``{{resolve:ssm:...}}`` dynamic reference names and
MiniStack does not have is refused before any deploy. Issue 20's new user met it as a rollback: the Lambda layer
docs/queue-function.md reads from Powertools' public SSM parameter failed `cdk deploy` of the consumer stack with
"Dynamic reference {{resolve:ssm:/aws/service/powertools/...}} could not be resolved", and the preflight said nothing.
"""

from __future__ import annotations

import boto3
import pytest

from decoupling_constructs.testing import PreflightError, preflight
from decoupling_constructs.testing.emulators import ministack

pytestmark = pytest.mark.slow

LAYER = "/aws/service/powertools/python/x86_64/python3.13/3.37.0"


def function(path: str, **properties: object) -> dict:
    return {"Type": "AWS::Lambda::Function", "Properties": properties, "Metadata": {"aws:cdk:path": path}}


TEMPLATE = {
    "Resources": {
        "Handler": function("Consumer/Handler/Resource", Layers=[f"{{{{resolve:ssm:{LAYER}}}}}"]),
        "Other": function(
            "Consumer/Other/Resource",
            Environment={"Variables": {"SETTING": {"Fn::Join": ["", ["{{resolve:ssm:/users/setting:1}}", "-x"]]}}},
        ),
    }
}


def test_ssm_parameters_ministack_lacks_are_refused_with_the_construct_path() -> None:
    with ministack(progress=None) as emulator:
        report = preflight({"Consumer": TEMPLATE}, emulator)
        refused = {(f.path, f.subject): f.reason for f in report.refused}
        assert set(refused) == {
            ("Consumer/Handler/Resource", f"SSM parameter {LAYER}"),
            ("Consumer/Other/Resource", "SSM parameter /users/setting"),
        }
        assert "public parameters are not served" in refused[("Consumer/Handler/Resource", f"SSM parameter {LAYER}")]
        assert "put the parameter there" in refused[("Consumer/Other/Resource", "SSM parameter /users/setting")]
        with pytest.raises(PreflightError, match=r"REFUSED Consumer Consumer/Handler/Resource .*SSM parameter /aws/"):
            report.raise_for_refusals()

        ssm = boto3.client(
            "ssm",
            endpoint_url=emulator.endpoint_url,
            region_name=emulator.region,
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        ssm.put_parameter(Name="/users/setting", Type="String", Value="on")
        again = preflight({"Consumer": TEMPLATE}, emulator)
        assert [f.path for f in again.refused] == ["Consumer/Handler/Resource"]  # the one it has now passes
