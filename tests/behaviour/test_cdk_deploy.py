"""The real `cdk deploy` of every reference stack into an emulator on 127.0.0.1, every resource verified against its
template through the services' own APIs (decoupling_constructs.testing.verify), and the stream pattern's delivery to
S3 run for real.

The messaging stacks go to MiniStack (`cdk bootstrap` + `cdk deploy`, change sets as on AWS); the broker stack goes
to a moto server through ``deploy_to_moto`` because MiniStack's CloudFormation rejects AWS::AmazonMQ::Broker (see
``stacks.demo.EMULATOR_FOR``). What each emulator does not store is named per emulator and version
in ``verify.NOT_STORED`` (by emulator name, checked on the versions in ``NOT_STORED_CHECKED``); these tests pin that
list, so an emulator bump that changes it fails here.

MiniStack differs from AWS in Firehose: it writes one object per record, without buffering or GZIP. The delivery
test counts records, not objects, and reads GZIP objects too, so it holds on both.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.streams import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX
from decoupling_constructs.testing import NO_RUNTIME_BEHAVIOUR, VerificationError, verify
from decoupling_constructs.testing.delivery import expanded_prefixes, object_keys, wait_for_records
from decoupling_constructs.testing.verify import not_stored_for
from stacks.demo import EMULATOR_FOR

# One worker starts MiniStack and runs `cdk deploy` once for every test here (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("emulator-deploys")

pytestmark = pytest.mark.slow

# The data prefixes given in stacks/stream_stack.py (the clickstream uses the module default).
PIPELINES = {
    "Clickstream": (DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX),
    "AuditTrail": ("audit/!{timestamp:yyyy}/!{timestamp:MM}/", "audit-errors/!{firehose:error-output-type}/"),
}


def deployed(stack_name: str, on_ministack, on_moto_server):
    emulator_name, _ = EMULATOR_FOR[stack_name]
    emulator, deployments = on_ministack if emulator_name == "ministack" else on_moto_server
    return emulator, deployments[stack_name]


# DecouplingQueueWorkers is deployed by no emulator (its NAT VPC); its boot is proven by test_workers_boot.py.
DEPLOYED = [name for name, (emulator, _) in EMULATOR_FOR.items() if emulator != "none"]


@pytest.mark.parametrize("stack_name", DEPLOYED)
def test_every_resource_is_deployed_and_matches_its_template(stack_name, on_ministack, on_moto_server) -> None:
    emulator, deployment = deployed(stack_name, on_ministack, on_moto_server)
    report = verify(deployment)  # raises VerificationError on any mismatch

    resources = deployment.template["Resources"]
    expected = sorted(lid for lid, r in resources.items() if r["Type"] not in NO_RUNTIME_BEHAVIOUR)
    assert report.resources == len(expected)
    assert sorted(lid for lid in deployment.resources if lid in expected) == expected
    assert report.emulator == emulator.label
    assert report.mismatches == []
    assert report.matches
    known = not_stored_for(emulator.label)
    assert {(f.resource_type, f.property) for f in report.not_stored} <= set(known)
    assert all(f.reason for f in report.not_stored)
    assert f"{stack_name} on {emulator.label}: {len(expected)} resources verified" in report.summary()


def test_each_stack_goes_where_every_resource_is_created(on_ministack, on_moto_server) -> None:
    """No stack needs the moto completion step except the one MiniStack refuses; none of MiniStack's was completed."""
    _, ministack_deployments = on_ministack
    _, moto_deployments = on_moto_server
    assert all(d.completed == {} for d in ministack_deployments.values())
    (broker,) = moto_deployments.values()
    assert {broker.template["Resources"][lid]["Type"] for lid in broker.completed} >= {"AWS::AmazonMQ::Broker"}


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_records_put_on_the_stream_reach_the_bucket_once_under_the_partitioned_prefix(pipeline, on_ministack) -> None:
    """Records go in through StreamProducer; Firehose (MiniStack's, reading the Kinesis stream itself) writes them
    to S3. Every record is read back exactly once from objects under the data prefix evaluated at delivery time;
    nothing is under the error prefix."""
    _, deployments = on_ministack
    deployment = deployments["DecouplingStreamToS3"]
    kinesis, s3 = deployment.client("kinesis"), deployment.client("s3")
    stream, bucket = deployment.outputs[f"{pipeline}StreamName"], deployment.outputs[f"{pipeline}BucketName"]
    data_prefix, error_prefix = PIPELINES[pipeline]
    run = uuid.uuid4().hex[:8]
    sent = [json.dumps({"run": run, "n": i}).encode() for i in range(120)]

    start = datetime.now(UTC)
    with StreamProducer(stream, client=kinesis) as producer:
        for i, data in enumerate(sent):
            producer.put(data + b"\n", partition_key=f"user-{i % 13}")
    static = data_prefix.split("!{", 1)[0]
    delivered = wait_for_records(s3, bucket, static, len(sent))
    end = datetime.now(UTC)

    counts = Counter(record for records in delivered.values() for record in records if run.encode() in record)
    assert counts == Counter(sent)  # each record once, none lost, none duplicated
    prefixes = expanded_prefixes(data_prefix, start, end)
    assert all(any(key.startswith(p) for p in prefixes) for key in delivered), (prefixes, list(delivered)[:3])
    assert object_keys(s3, bucket, error_prefix.split("!{", 1)[0]) == []


def test_a_bucket_whose_versioning_was_suspended_is_a_mismatch(on_ministack) -> None:
    """S3 cannot turn versioning off once on; suspending it is what can happen to a deployed bucket."""
    _, deployments = on_ministack
    deployment = deployments["DecouplingStreamToS3"]
    s3 = deployment.client("s3")
    bucket = deployment.outputs["ClickstreamBucketName"]
    logical_id = next(lid for lid, pid in deployment.resources.items() if pid == bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    try:
        report = verify(deployment, check=False)
        (mismatch,) = report.mismatches
        assert (mismatch.logical_id, mismatch.property) == (logical_id, "VersioningConfiguration")
        assert mismatch.expected == {"Status": "Enabled"}
        assert mismatch.actual == {"Status": "Suspended"}
        with pytest.raises(VerificationError, match=f"MISMATCH {logical_id} .*VersioningConfiguration"):
            verify(deployment)
    finally:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert verify(deployment).mismatches == []
