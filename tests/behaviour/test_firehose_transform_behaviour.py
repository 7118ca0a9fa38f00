"""Firehose transforms after the real `cdk deploy` of DecouplingFirehoseTransform into MiniStack: records go in,
and what is read back under each partition prefix is the *transformed* record, each where its partition keys say.

The transform is the docs' handler (examples/firehose_transform_handler.py, the runtime's ``firehose_transform``)
deployed as the reference stack bundles it. Every record sent carries a user id unique to the run; the expected
rows are computed here from what was sent, never read from the construct.

What MiniStack shows, and what it cannot (MiniStack 1.5.33, ``ministack/services/firehose.py``):

* it invokes the function once per record (no batching, no buffer hints) and fills ``!{partitionKeyFromLambda:k}``
  from ``metadata.partitionKeys`` and ``!{partitionKeyFromQuery:k}`` from the JQ extraction: shown below;
* on a Lambda *error* (or a malformed answer) it passes the raw record through, where AWS fails the batch. So the
  assertions are on content: a raw record under a data prefix, or a record without the transform's fields, fails
  them. A handler that answered nothing would fail the prefix evaluation (no partition key) and deliver nothing;
* ``Dropped`` and ``ProcessingFailed`` are both discarded: nothing is written under ``processing-failed``, so the
  test shows that dropped and failed records are *absent* from the data prefixes, not where AWS puts the failed
  ones. Retries (``NumberOfRetries``), the buffers, the 5-minute and 6 MB limits are not emulated either.
  Covered instead: the record contract (one answer per recordId, Ok/Dropped/ProcessingFailed, the 6 MB response)
  by the decorator's in-process tests (tests/runtime/test_firehose_transform.py); every setting rendered, the
  error prefix with ``!{firehose:error-output-type}`` and the grants by the template tests
  (tests/unit/test_transform.py, tests/unit/test_stream_to_s3.py);
* its SNS does not deliver to Firehose (its fan-out reaches SQS, HTTP(S) and Lambda only): for the SNS -> Firehose
  lake, the test puts the messages into the delivery stream as SNS's raw delivery would write them (the message as
  published), a stand-in for SNS, and checks that the subscription itself is deployed.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

import pytest

from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.testing.delivery import object_keys, read_records, wait_for_records
from stacks.demo.clicks import sent_clicks
from stacks.firehose_stack import CLICKS_PREFIX, VIEWS_PREFIX

pytestmark = [pytest.mark.xdist_group("emulator-deploys"), pytest.mark.slow]

STACK = "DecouplingFirehoseTransform"


def static(prefix: str) -> str:
    return prefix.split("!{", 1)[0]


def rows_under(s3, bucket: str, prefix: str, run: str) -> list[tuple[str, dict]]:
    """(key, row) of every record of this run under ``prefix``; a record that is not JSON (raw) fails here."""
    found = []
    for key in object_keys(s3, bucket, prefix):
        for record in read_records(s3, bucket, key):
            if run.encode() in record:
                found.append((key, json.loads(record)))
    return found


def assert_transformed(row: dict) -> None:
    """The docs' handler's output: these fields and only these (the input's ``extra`` and ``bot`` are gone)."""
    assert set(row) == {"page", "user", "arrived_ms", "shard"}, row
    assert isinstance(row["arrived_ms"], int) and row["arrived_ms"] > 0


def test_the_deployed_delivery_streams_run_the_transform_with_every_setting(on_ministack) -> None:
    _, deployments = on_ministack
    deployment = deployments[STACK]
    firehose = deployment.client("firehose")
    function_arn = deployment.client("lambda").get_function(FunctionName=deployment.outputs["TransformFunctionName"])[
        "Configuration"
    ]["FunctionArn"]
    name = deployment.outputs["ClicksDeliveryStreamName"]
    (destination,) = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
        "Destinations"
    ]
    config = destination["ExtendedS3DestinationDescription"]
    assert config["Prefix"] == CLICKS_PREFIX
    assert config["DynamicPartitioningConfiguration"]["Enabled"] is True
    (processor,) = config["ProcessingConfiguration"]["Processors"]
    params = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert params["LambdaArn"] == function_arn
    assert (params["NumberOfRetries"], params["BufferSizeInMBs"], params["BufferIntervalInSeconds"]) == ("3", "1", "60")
    # The SNS subscription to the lake is deployed (MiniStack's SNS does not deliver to it: see the module doc).
    sns = deployment.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=deployment.outputs["ClicksTopicArn"])["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["firehose"]


def test_sns_to_firehose_lands_transformed_clicks_under_their_page_and_nothing_else(on_ministack) -> None:
    _, deployments = on_ministack
    deployment = deployments[STACK]
    firehose, s3 = deployment.client("firehose"), deployment.client("s3")
    bucket = deployment.outputs["ClicksBucketName"]
    run = uuid.uuid4().hex[:8]
    records, expected, absent = sent_clicks(run)
    # Stand-in for SNS's raw delivery (the message as published), which MiniStack's SNS does not make.
    firehose.put_record_batch(
        DeliveryStreamName=deployment.outputs["ClicksDeliveryStreamName"], Records=[{"Data": r} for r in records]
    )
    wait_for_records(s3, bucket, static(CLICKS_PREFIX), sum(map(len, expected.values())), timeout=120)

    rows = rows_under(s3, bucket, static(CLICKS_PREFIX), run)
    by_page: dict[str, set[str]] = defaultdict(set)
    for key, row in rows:
        assert_transformed(row)
        assert row["shard"] is None  # Direct PUT: no Kinesis metadata
        assert key.startswith(CLICKS_PREFIX.replace("!{partitionKeyFromLambda:page}", row["page"])), key
        by_page[row["page"]].add(row["user"])
    assert dict(by_page) == expected
    assert len(rows) == sum(map(len, expected.values()))  # each once
    assert not {row["user"] for _, row in rows} & absent  # dropped and failed records are not delivered


def test_a_stream_to_s3_transform_partitions_by_the_lambda_key_and_the_jq_extraction(on_ministack) -> None:
    _, deployments = on_ministack
    deployment = deployments[STACK]
    kinesis, s3 = deployment.client("kinesis"), deployment.client("s3")
    bucket = deployment.outputs["ViewsBucketName"]
    run = uuid.uuid4().hex[:8]
    records, expected, absent = sent_clicks(run)
    with StreamProducer(deployment.outputs["ViewsStreamName"], client=kinesis) as producer:
        for i, record in enumerate(records):
            producer.put(record, partition_key=f"p-{i}")
    wait_for_records(s3, bucket, static(VIEWS_PREFIX), sum(map(len, expected.values())), timeout=120)

    rows = rows_under(s3, bucket, static(VIEWS_PREFIX), run)
    by_page: dict[str, set[str]] = defaultdict(set)
    for key, row in rows:
        assert_transformed(row)
        # page from the function's partition keys, user from the JQ extraction of the transformed row
        expected_prefix = VIEWS_PREFIX.replace("!{partitionKeyFromLambda:page}", row["page"])
        assert key.startswith(expected_prefix.replace("!{partitionKeyFromQuery:user}", row["user"])), key
        by_page[row["page"]].add(row["user"])
    assert dict(by_page) == expected
    assert len(rows) == sum(map(len, expected.values()))
    assert not {row["user"] for _, row in rows} & absent
