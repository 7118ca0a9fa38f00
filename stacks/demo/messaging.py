"""The messaging patterns driven through the deployed reference stacks: ReliableQueue (standard and FIFO),
FanOut (SNS to queues, to a function, to Firehose), StreamToS3 and the brokers."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from decoupling_constructs.runtime.consumer import QueueConsumer
from decoupling_constructs.runtime.producer import QueueProducer, TopicPublisher
from decoupling_constructs.runtime.redrive import redrive
from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.streams import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX
from decoupling_constructs.testing import Deployment
from decoupling_constructs.testing.delivery import expanded_prefixes, object_keys, wait_for_records
from decoupling_constructs.testing.observe import queue_depth

from ._model import REGION, Progress, Result
from .clicks import click
from .consumers import WAIT_S, wait_until


def queue_scenario(d: Deployment, jobs: int, progress: Progress) -> Result:
    """1% of jobs fail permanently: they end in the DLQ; the rest are processed once; a redrive after the fix
    empties the DLQ."""
    result = Result("queue")
    sqs = d.client("sqs")
    url, dlq_url = d.outputs["JobsQueueUrl"], d.outputs["JobsDeadLetterQueueUrl"]
    poison = {i for i in range(jobs) if i % 100 == 99}
    with QueueProducer(url, client=sqs) as producer:
        for i in range(jobs):
            producer.send(json.dumps({"job": i}))
    sent_calls = producer.stats.api_call_total
    done: Counter[int] = Counter()

    def handler(message: dict[str, Any]) -> None:
        job = json.loads(message["Body"])["job"]
        if job in poison:
            result.injected_failures += 1
            raise RuntimeError(f"job {job} cannot be processed (a failure the demo injects)")
        done[job] += 1
        progress("queue", len(done), jobs - len(poison))

    stats = QueueConsumer(url, handler, wait_time_seconds=1, retry_failed_immediately=True, client=sqs).run(
        idle_timeout=2
    )
    in_dlq = queue_depth(sqs, dlq_url)
    calls = sent_calls + sum(stats.api_calls.values())
    result.check("processed exactly once", jobs - len(poison), sum(1 for n in done.values() if n == 1))
    result.check("failing jobs in the DLQ", len(poison), in_dlq)
    result.rows += [
        ("jobs sent", f"{jobs:,}"),
        ("processed", f"{len(done):,}"),
        ("in the DLQ after 5 receives each", f"{in_dlq:,}"),
        ("API calls per message (send+receive+delete)", f"{calls / jobs:.2f}"),
    ]
    poison.clear()  # the handler is "fixed"
    # The destination is given: MiniStack implements neither StartMessageMoveTask nor ListDeadLetterSourceQueues,
    # so redrive() copies, and needs to be told where to.
    moved = redrive(_arn(dlq_url), destination_arn=_arn(url), client=sqs)
    again = QueueConsumer(url, handler, wait_time_seconds=1, client=sqs).run(idle_timeout=2)
    result.check("redrive moved the DLQ back", in_dlq, moved.moved)
    result.check("DLQ empty after the fix", 0, queue_depth(sqs, dlq_url))
    result.check("every job processed once in the end", jobs, sum(1 for n in done.values() if n == 1))
    result.rows.append((f"redriven ({moved.method}) and processed after the fix", f"{again.succeeded:,}"))
    return result


def _arn(queue_url: str) -> str:
    account, name = queue_url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def fifo_scenario(d: Deployment, per_group: int, progress: Progress) -> Result:
    """Three message groups interleaved, consumed by parallel workers: each group's order is kept."""
    result = Result("fifo")
    sqs = d.client("sqs")
    url = d.outputs["OrdersQueueUrl"]
    groups = ["customer-a", "customer-b", "customer-c"]
    with QueueProducer(url, client=sqs) as producer:
        for seq in range(per_group):
            for group in groups:
                producer.send(json.dumps({"group": group, "seq": seq}), message_group_id=group)
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        body = json.loads(message["Body"])
        with lock:
            seen[body["group"]].append(body["seq"])
            progress("fifo", sum(len(v) for v in seen.values()), per_group * len(groups))

    QueueConsumer(url, handler, wait_time_seconds=1, max_workers=3, client=sqs).run(idle_timeout=2)
    for group in groups:
        result.check(f"{group} in order", list(range(per_group)), seen[group])
        result.rows.append(
            (f"{group}", f"{len(seen[group])} messages, in order: {seen[group] == list(range(per_group))}")
        )
    return result


def _matches(policy: dict[str, Any], scope: str, attributes: dict[str, str], body: dict[str, Any]) -> bool:
    """The filter policies the reference stack uses: string allowlists and numeric ranges."""
    values = attributes if scope != "MessageBody" else body
    for key, conditions in policy.items():
        value = values.get(key)
        if value is None:
            return False
        if not any(_condition(c, value) for c in conditions):
            return False
    return True


def _condition(condition: Any, value: Any) -> bool:
    if isinstance(condition, dict) and "numeric" in condition:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        terms = condition["numeric"]
        checks = {"<": value.__lt__, "<=": value.__le__, ">": value.__gt__, ">=": value.__ge__, "=": value.__eq__}
        return all(checks[op](bound) for op, bound in zip(terms[::2], terms[1::2], strict=True))
    return bool(condition == value)


def fanout_scenario(d: Deployment, events: int, progress: Progress) -> Result:
    """Order events with random regions and amounts: each subscriber gets what its filter selects,
    computed here independently from the deployed subscriptions' filter policies."""
    result = Result("fanout")
    sns, sqs = d.client("sns"), d.client("sqs")
    topic = d.outputs["OrderEventsTopicArn"]
    subscriptions = []
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        if sub["Protocol"] != "sqs":  # the notifier function: its deliveries are not counted in a queue
            continue
        attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
        name = sub["Endpoint"].rsplit(":", 1)[-1]
        subscriptions.append(
            (
                name,
                sqs.get_queue_url(QueueName=name)["QueueUrl"],
                json.loads(attributes.get("FilterPolicy") or "{}"),
                attributes.get("FilterPolicyScope") or "MessageAttributes",
                attributes.get("RawMessageDelivery") == "true",
            )
        )
    before = {name: queue_depth(sqs, url) for name, url, *_ in subscriptions}  # other patterns' messages
    rng = random.Random(7)
    expected: Counter[str] = Counter()
    with TopicPublisher(topic, client=sns) as publisher:
        for i in range(events):
            region = rng.choice(["eu-west", "eu-central", "us-east", "ap-south"])
            body = {"order": i, "amount": rng.choice([5, 99, 100, 250.5, 9_999, 10_000, 50_000])}
            publisher.publish(json.dumps(body), attributes={"region": region})
            for name, _, policy, scope, _ in subscriptions:
                expected[name] += _matches(policy, scope, {"region": region}, body)
            progress("fanout", i + 1, events)
    for name, url, policy, scope, _ in subscriptions:
        got = queue_depth(sqs, url) - before[name]
        label = "-".join(name.split("-")[1:-1]) or name  # <stack>-<path>-<hash>: the path
        result.check(f"{label} received what its filter selects", expected[name], got)
        result.rows.append(
            (label, f"received {got:,}, filter selects {expected[name]:,} ({scope}: {json.dumps(policy)})")
        )
    return result


# The clickstream pipeline's prefixes: StreamToS3's defaults (the reference stack gives none).
STREAM_PREFIXES = (DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX)


def stream_scenario(d: Deployment, records: int, progress: Progress) -> Result:
    """Clicks (``clicks.click``, the records the reference Flink job's tests run on) over 100 partition keys
    through StreamProducer: each lands on its key's shard, and Firehose, reading the stream, writes each one exactly
    once to S3 under the partitioned data prefix; none under the error prefix."""
    import hashlib

    result = Result("stream")
    kinesis, s3 = d.client("kinesis"), d.client("s3")
    stream, bucket = d.outputs["ClickstreamStreamName"], d.outputs["ClickstreamBucketName"]
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    run = uuid.uuid4().hex[:8]  # this run's records, whatever else the bucket holds
    start = datetime.now(UTC)
    keys: list[str] = []
    sent: list[bytes] = []
    with StreamProducer(stream, client=kinesis) as producer:
        for i in range(records):
            key, data = click(run, i, at_ms=time.time_ns() // 1_000_000)
            keys.append(key)
            sent.append(data)
            producer.put(data + b"\n", partition_key=key)
            if i % 500 == 0:
                progress("stream", i, records)
    progress("stream", records, records)
    expected: Counter[str] = Counter()
    for key in keys:
        point = int(hashlib.md5(key.encode()).hexdigest(), 16)
        shard = next(
            s
            for s in shards
            if int(s["HashKeyRange"]["StartingHashKey"]) <= point <= int(s["HashKeyRange"]["EndingHashKey"])
        )
        expected[shard["ShardId"]] += 1
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        got = 0
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            got += sum(1 for r in response["Records"] if run.encode() in r["Data"])
            iterator = response.get("NextShardIterator") if response["Records"] else None
        result.check(f"{shard['ShardId']} holds its keys' records", expected[shard["ShardId"]], got)
        result.rows.append((shard["ShardId"], f"{got:,} records (capacity 1,000 records/s and 1 MiB/s of writes)"))

    data_prefix, error_prefix = STREAM_PREFIXES
    delivered = wait_for_records(s3, bucket, data_prefix.split("!{", 1)[0], records, timeout=WAIT_S)
    prefixes = expanded_prefixes(data_prefix, start, datetime.now(UTC))
    counts = Counter(r for rs in delivered.values() for r in rs if run.encode() in r)
    result.check("every record in S3 exactly once", records, sum(1 for data in sent if counts[data] == 1))
    result.check("no record twice or unknown", 0, sum(n for data, n in counts.items() if n != 1 or data not in sent))
    outside = [key for key in delivered if not any(key.startswith(p) for p in prefixes)]
    result.check("objects under the partitioned prefix", [], outside)
    errors = object_keys(s3, bucket, error_prefix.split("!{", 1)[0])
    result.check("error prefix empty", [], errors)
    result.rows += [
        ("delivered to S3", f"{sum(counts.values()):,} records in {len(delivered):,} objects under {min(prefixes)}"),
        ("error prefix", f"{len(errors)} objects under {error_prefix.split('!{', 1)[0]}"),
    ]
    result.notes.append(
        "emulator differs from AWS: MiniStack's Firehose writes one object per record at once, without GZIP "
        "(AWS buffers up to 5 MiB or 300 s and compresses); the exactly-once count holds either way"
    )
    return result


def broker_scenario(d: Deployment, _: int, progress: Progress) -> Result:
    """The brokers as the emulator describes them (control plane only: moto runs no broker)."""
    result = Result("broker")
    mq = d.client("mq")
    brokers = mq.list_brokers()["BrokerSummaries"]
    for summary in brokers:
        broker = mq.describe_broker(BrokerId=summary["BrokerId"])
        instances = broker["BrokerInstances"]
        want = 2 if broker["DeploymentMode"] == "ACTIVE_STANDBY_MULTI_AZ" else 1
        result.check(f"{broker['EngineType']} instances", want, len(instances))
        result.check(f"{broker['EngineType']} private", False, broker["PubliclyAccessible"])
        result.rows.append(
            (
                f"{broker['EngineType']} {broker['DeploymentMode']}",
                f"{len(instances)} instance(s): {', '.join(e for i in instances for e in i['Endpoints'][:1])}",
            )
        )
    progress("broker", 1, 1)
    result.check("brokers deployed", 2, len(brokers))
    return result


def _published(sns: Any, topic: str, bodies: list[dict[str, Any]], regions: list[str]) -> dict[str, int]:
    """Publish one event per body (``region`` attribute from ``regions``) with PublishBatch; message id -> index."""
    ids: dict[str, int] = {}
    for start in range(0, len(bodies), 10):  # SNS PublishBatch: at most 10 entries per call
        entries = [
            {
                "Id": str(i),
                "Message": json.dumps(bodies[i]),
                "MessageAttributes": {"region": {"DataType": "String", "StringValue": regions[i]}},
            }
            for i in range(start, min(start + 10, len(bodies)))
        ]
        response = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        ids.update({entry["MessageId"]: int(entry["Id"]) for entry in response["Successful"]})
    return ids


def _subscription(sns: Any, topic: str, protocol: str) -> tuple[str, dict[str, str]]:
    """The topic's subscription of ``protocol``: its endpoint and attributes."""
    subscription = next(
        s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Protocol"] == protocol
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    return subscription["Endpoint"], attributes


def fanout_lambda_scenario(d: Deployment, events: int, progress: Progress) -> Result:
    """SNS -> Lambda: order events from four regions; the notifier function logs each event its filter selects,
    once, and no other (read from its log group)."""
    from decoupling_constructs.testing.observe import function_log_group, logged_field_counts

    result = Result("fanout-lambda")
    sns, logs = d.client("sns"), d.client("logs")
    topic, function = d.outputs["OrderEventsTopicArn"], d.outputs["NotifierFunctionName"]
    _, attributes = _subscription(sns, topic, "lambda")
    policy = json.loads(attributes.get("FilterPolicy") or "{}")
    regions = [["eu-west", "eu-central", "us-east", "ap-south"][i % 4] for i in range(events)]
    bodies = [{"order": i, "amount": 10} for i in range(events)]
    ids = _published(sns, topic, bodies, regions)
    selected = {m for m, i in ids.items() if _matches(policy, "MessageAttributes", {"region": regions[i]}, bodies[i])}
    group = function_log_group(d.client("lambda"), function)

    def notified() -> Counter[str]:
        counts = logged_field_counts(logs, group, "notified")
        progress("fanout-lambda", len(selected & set(counts)), len(selected))
        return counts

    counts = wait_until(notified, lambda c: selected <= set(c), timeout=WAIT_S)
    result.check("every selected event notified once", len(selected), sum(1 for m in selected if counts[m] == 1))
    result.check("no other event notified", 0, sum(1 for m in ids if m not in selected and counts[m]))
    result.rows.append(
        (
            "SNS -> Lambda (notifier)",
            f"{len(ids)} published, {len(selected)} selected by {json.dumps(policy)}, "
            f"{sum(1 for m in selected if counts[m] == 1)} notified once",
        )
    )
    return result


def fanout_firehose_scenario(d: Deployment, events: int, progress: Progress) -> Result:
    """SNS -> Firehose -> S3: the archive subscription (raw delivery, a role SNS assumes) is deployed; every
    published event lands in S3 under the archive prefix once. Where the emulator's SNS does not deliver to
    Firehose, the demo stands in for SNS (PutRecordBatch of the messages as SNS would write them) and says so."""
    from stacks.fan_out_stack import ARCHIVE_PREFIX

    result = Result("fanout-firehose")
    sns, firehose, s3 = d.client("sns"), d.client("firehose"), d.client("s3")
    topic, bucket = d.outputs["OrderEventsTopicArn"], d.outputs["ArchiveBucketName"]
    stream = firehose.describe_delivery_stream(DeliveryStreamName=d.outputs["ArchiveDeliveryStreamName"])
    description = stream["DeliveryStreamDescription"]
    endpoint, attributes = _subscription(sns, topic, "firehose")
    result.check("subscribed to the archive delivery stream", description["DeliveryStreamARN"], endpoint)
    result.check("raw message delivery", "true", attributes.get("RawMessageDelivery"))
    result.check("SNS writes with a role of its own", True, bool(attributes.get("SubscriptionRoleArn")))
    run = uuid.uuid4().hex[:8]
    bodies = [{"run": run, "order": i} for i in range(events)]
    messages = {json.dumps(b).encode() for b in bodies}
    _published(sns, topic, bodies, ["eu-west"] * events)

    def archived(timeout: float) -> Counter[bytes]:
        delivered = wait_for_records(s3, bucket, ARCHIVE_PREFIX, events, timeout=timeout)
        return Counter(r for rs in delivered.values() for r in rs if run.encode() in r)

    by_sns = archived(timeout=3)
    how = "delivered by SNS"
    if sum(by_sns.values()) < events:
        how = "SNS's part stood in by the demo (PutRecordBatch)"
        result.notes.append(
            f"emulator differs from AWS: MiniStack's SNS delivered {sum(by_sns.values())} of {events} events to "
            "Firehose (its fan-out delivers to sqs, http(s) and lambda only); the demo put the published messages "
            "into the delivery stream as SNS would (raw), so what is shown is Firehose -> S3"
        )
        ordered = [json.dumps(b).encode() for b in bodies]
        for start in range(0, len(ordered), 500):  # Firehose PutRecordBatch: at most 500 records per call
            firehose.put_record_batch(
                DeliveryStreamName=description["DeliveryStreamName"],
                Records=[{"Data": data} for data in ordered[start : start + 500]],
            )
    counts = archived(timeout=WAIT_S)
    progress("fanout-firehose", sum(counts.values()), events)
    result.check("every event archived once", events, sum(1 for m in messages if counts[m] == 1))
    result.check(
        "nothing archived twice or unknown", 0, sum(n for m, n in counts.items() if n != 1 or m not in messages)
    )
    result.rows.append(
        ("SNS -> Firehose -> S3 (archive)", f"{sum(counts.values())} of {events} under {ARCHIVE_PREFIX} ({how})")
    )
    return result
