"""The demo's firehose-transform pattern: DecouplingFirehoseTransform, deployed by `cdk deploy` into MiniStack.

Clicks (``clicks.sent_clicks``, the records tests/behaviour/test_firehose_transform_behaviour.py sends) go into the
Direct PUT delivery stream the stack's FanOut topic feeds, as SNS's raw delivery would write them (MiniStack's SNS
does not deliver to Firehose). Its Firehose runs the transform (examples/firehose_transform_handler.py) on each and
writes the answer under ``clicks/page=<the Lambda partition key>/``. The scenario reads the bucket back: every
good click once, transformed (the handler's fields only), under its page's prefix; the bots' clicks (Dropped) and
the records that are not clicks (ProcessingFailed) nowhere under the data prefix.

What MiniStack cannot show: it invokes the function once per record (no batching, no buffering) and discards
ProcessingFailed records like Dropped ones, so nothing is written under the processing-failed prefix; the record
contract is tested in-process (tests/runtime/test_firehose_transform.py), the error prefix by the template tests.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

from decoupling_constructs.testing import Deployment
from decoupling_constructs.testing.delivery import wait_for_records

from ..firehose_stack import CLICKS_ERROR_PREFIX, CLICKS_PREFIX
from ._model import Progress, Result
from .clicks import sent_clicks
from .consumers import WAIT_S

PATTERN = "firehose-transform"
# What the docs' handler writes for a click, and nothing else (the input's ``extra`` and ``bot`` are gone).
TRANSFORMED_FIELDS = {"page", "user", "arrived_ms", "shard"}


def static(prefix: str) -> str:
    """A Firehose prefix up to its first ``!{...}`` expression."""
    return prefix.split("!{", 1)[0]


def firehose_transform_scenario(d: Deployment, clicks: int, progress: Progress) -> Result:
    result = Result(PATTERN)
    firehose, s3 = d.client("firehose"), d.client("s3")
    bucket = d.outputs["ClicksBucketName"]
    run = uuid.uuid4().hex[:8]  # this run's records, whatever else the bucket holds
    records, expected, absent = sent_clicks(run, clicks)
    wanted = sum(map(len, expected.values()))
    # Stand-in for SNS's raw delivery (the message as published), which MiniStack's SNS does not make.
    response = firehose.put_record_batch(
        DeliveryStreamName=d.outputs["ClicksDeliveryStreamName"], Records=[{"Data": r} for r in records]
    )
    result.check("records accepted", 0, response["FailedPutCount"])
    progress(PATTERN, len(records), len(records))
    delivered = wait_for_records(s3, bucket, static(CLICKS_PREFIX), wanted, timeout=WAIT_S)

    by_page: dict[str, list[str]] = defaultdict(list)
    untransformed: list[str] = []  # raw records or rows with other fields than the handler's
    misplaced: list[str] = []  # rows not under their own page's prefix
    for key, lines in delivered.items():
        for line in lines:
            if run.encode() not in line:
                continue
            try:
                row = json.loads(line)
            except ValueError:
                untransformed.append(line.decode(errors="replace"))
                continue
            if not isinstance(row, dict) or set(row) != TRANSFORMED_FIELDS or not isinstance(row["arrived_ms"], int):
                untransformed.append(line.decode(errors="replace"))
                continue
            if not key.startswith(CLICKS_PREFIX.replace("!{partitionKeyFromLambda:page}", str(row["page"]))):
                misplaced.append(key)
            by_page[str(row["page"])].append(str(row["user"]))
    users = [user for page_users in by_page.values() for user in page_users]
    for page, page_users in sorted(expected.items()):
        result.check(f"page={page}: its clicks, transformed", sorted(page_users), sorted(by_page.get(page, [])))
    result.check("each click once", len(users), len(set(users)))
    result.check("every record transformed (no raw record, no extra field)", [], untransformed)
    result.check("each row under its page's prefix", [], misplaced)
    result.check("dropped and failed records not delivered", [], sorted(set(users) & absent))
    bots = sum(1 for r in records if b'"bot": true' in r)
    result.rows += [
        (
            "records put (as SNS raw delivery would)",
            f"{len(records)}: {wanted} clicks, {bots} Dropped, {len(records) - wanted - bots} ProcessingFailed",
        ),
        *(
            (CLICKS_PREFIX.replace("!{partitionKeyFromLambda:page}", page), f"{len(by_page[page])} transformed rows")
            for page in sorted(by_page)
        ),
    ]
    result.notes.append(
        "emulator differs from AWS: MiniStack's SNS does not deliver to Firehose (the demo puts the messages as raw "
        "delivery would); its Firehose invokes the transform once per record (no batching or buffering) and discards "
        f"failed records like dropped ones, so nothing lands under {static(CLICKS_ERROR_PREFIX)}processing-failed/ "
        "(tested in-process and by the template tests)"
    )
    return result
