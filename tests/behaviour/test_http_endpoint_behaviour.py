"""StreamToHttpEndpoint deployed by the real `cdk deploy` into MiniStack (the reference stack
DecouplingStreamToHttpEndpoint, with every other MiniStack stack): what the service reports back.

Proven here: the stack deploys (every resource created and verified against its template, in
test_cdk_deploy.py), and DescribeDeliveryStream echoes the endpoint's URL and name, the buffering hints and the
backup mode the construct rendered; records put on the source stream are accepted.

Not provable in any emulator, proven only by the template tests (tests/unit/test_stream_to_http.py): MiniStack
1.5.33's Firehose POSTs nothing to an HTTP endpoint (records for it "buffer in-memory"), and its
DescribeDeliveryStream returns no SecretsManagerConfiguration, RequestConfiguration (GZIP, common attributes),
RetryOptions or S3 backup configuration (verify.NOT_STORED); moto POSTs without the headers, gzip, retries or
backup the specification requires. So retries, backup on failure and a partner's ingestion are proven nowhere
locally. The receiving side (runtime.FirehoseHttpReceiver) is proven against requests built from AWS's published
request/response specification, in its own tests.
"""

from __future__ import annotations

import pytest

from stacks.http_endpoint_stack import ENDPOINT_URL

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("emulator-deploys")]
STACK = "DecouplingStreamToHttpEndpoint"


def test_describe_delivery_stream_echoes_the_endpoint_buffering_and_backup_mode(on_ministack) -> None:
    _, deployments = on_ministack
    deployment = deployments[STACK]
    name = deployment.outputs["DeliveryStreamName"]
    described = deployment.client("firehose").describe_delivery_stream(DeliveryStreamName=name)
    stream = described["DeliveryStreamDescription"]
    assert stream["DeliveryStreamStatus"] == "ACTIVE"
    assert stream["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert stream["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(
        "/" + deployment.outputs["StreamName"]
    )
    (destination,) = stream["Destinations"]
    http = destination["HttpEndpointDestinationDescription"]
    assert http["EndpointConfiguration"] == {"Url": ENDPOINT_URL, "Name": "Reference receiver"}
    assert http["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 60}
    assert http["S3BackupMode"] == "FailedDataOnly"
    # What MiniStack 1.5.33 does not report (see the module doc); a MiniStack that starts reporting it fails here,
    # so that the proof above grows with it.
    assert not {"SecretsManagerConfiguration", "RetryOptions", "RequestConfiguration"} & set(http)


def test_records_put_on_the_source_stream_are_accepted(on_ministack) -> None:
    _, deployments = on_ministack
    deployment = deployments[STACK]
    kinesis = deployment.client("kinesis")
    response = kinesis.put_records(
        StreamName=deployment.outputs["StreamName"],
        Records=[{"Data": f'{{"n": {i}}}'.encode(), "PartitionKey": str(i)} for i in range(10)],
    )
    assert response["FailedRecordCount"] == 0


def test_the_access_key_secret_holds_the_shape_firehose_reads(on_ministack) -> None:
    """Firehose reads {"api_key": "..."} from the secret (Firehose developer guide, HTTP endpoint destination with
    Secrets Manager): the generated secret has exactly that shape."""
    import json

    _, deployments = on_ministack
    deployment = deployments[STACK]
    secret = deployment.client("secretsmanager").get_secret_value(SecretId=deployment.outputs["AccessKeySecretArn"])
    value = json.loads(secret["SecretString"])
    assert set(value) == {"api_key"} and len(value["api_key"]) >= 32
