"""DecouplingStreamToOpenSearch deployed into MiniStack by the real `cdk deploy`: the domain, the source stream and
the delivery stream into OpenSearch exist afterwards, as the template says.

What this proves and what it does not, honestly:

* MiniStack deploys the public variant (``vpc_delivery=False``): its CloudFormation has no provisioner for
  security-group rules nor VPC flow logs, which the VPC reference stack holds (the preflight names them). The VPC
  delivery itself (subnets, security group, ENI permissions) is proven by template only
  (tests/unit/test_stream_to_opensearch.py, cfn-lint, cdk-nag and checkov over the reference stack).
* MiniStack's OpenSearch data plane is a stub, and its Firehose accepts an OpenSearch destination but indexes
  nothing; moto refuses the destination (STREAMING_NOTES §2.5). Delivery into OpenSearch (bulk indexing, index
  rotation, retries, the backup of failed documents) is proven only statically.
* MiniStack names the destination's description block ``AmazonOpenSearchDestinationDescription`` where the API
  says ``AmazonopensearchserviceDestinationDescription``, so boto3, which parses the API's model, drops it: the
  test reads the raw answer to see the index name MiniStack stored, and says which name it found.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from decoupling_constructs.testing import cdk_deploy, ministack
from stacks import app_context
from stacks.opensearch_stack import DOMAIN_NAME, INDEX_NAME, StreamToOpenSearchStack

pytestmark = pytest.mark.slow

STACK = "DecouplingStreamToOpenSearch"


def _raw_describe(emulator, name: str) -> dict:
    """DescribeDeliveryStream's JSON as MiniStack sends it (boto3 drops members its model does not know)."""
    body = json.dumps({"DeliveryStreamName": name}).encode()
    request = AWSRequest(
        method="POST",
        url=emulator.endpoint_url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Firehose_20150804.DescribeDeliveryStream",
        },
    )
    SigV4Auth(Credentials(emulator.access_key_id, "testing"), "firehose", emulator.region).add_auth(request)
    prepared = urllib.request.Request(emulator.endpoint_url, data=body, headers=dict(request.headers), method="POST")
    with urllib.request.urlopen(prepared, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_the_public_variant_deploys_and_the_delivery_stream_into_opensearch_exists(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=app_context())
    StreamToOpenSearchStack(app, STACK, vpc_delivery=False)
    assembly = Path(app.synth().directory)
    with ministack(log_file=tmp_path / "ministack.log") as emulator:
        cdk_deploy(assembly, [STACK], emulator, log_file=tmp_path / "cdk.log")
        session = boto3.Session(
            aws_access_key_id=emulator.access_key_id, aws_secret_access_key="testing", region_name=emulator.region
        )

        def client(service: str):  # type: ignore[no-untyped-def]
            return session.client(service, endpoint_url=emulator.endpoint_url)

        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        }
        assert client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == (
            "CREATE_COMPLETE"
        )
        domain = client("opensearch").describe_domain(DomainName=DOMAIN_NAME)["DomainStatus"]
        assert domain["DomainName"] == DOMAIN_NAME
        assert domain["EncryptionAtRestOptions"]["Enabled"] is True
        assert domain["NodeToNodeEncryptionOptions"]["Enabled"] is True
        assert client("kinesis").describe_stream_summary(StreamName=outputs["StreamName"])

        name = outputs["DeliveryStreamName"]
        description = client("firehose").describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        assert description["DeliveryStreamName"] == name
        assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
        assert description["DeliveryStreamStatus"] == "ACTIVE"
        (destination,) = description["Destinations"]
        # boto3 keeps only what its model names: MiniStack's OpenSearch block is not one of them.
        assert "AmazonopensearchserviceDestinationDescription" not in destination

        raw = _raw_describe(emulator, name)["DeliveryStreamDescription"]["Destinations"][0]
        blocks = {key for key in raw if key.endswith("DestinationDescription")}
        assert blocks == {"AmazonOpenSearchDestinationDescription"}, blocks  # MiniStack's name, not the API's
        stored = raw["AmazonOpenSearchDestinationDescription"]
        assert stored.get("IndexName") == INDEX_NAME
        assert stored.get("DomainARN", "").endswith(f":domain/{DOMAIN_NAME}")
