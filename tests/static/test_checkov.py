"""checkov, the third scanner of every reference stack (after cfn-lint and cdk-nag): no failed check, and every
check skipped on purpose reviewed, on one resource, with its reason.

checkov pins boto3 against ours, so it runs from a venv of its own (``make setup`` builds ``.venvs/checkov``
from requirements-checkov.txt; ``$CHECKOV`` names another executable). A skip is the resource's
``Metadata.checkov.skip`` entry, written by ``decoupling_constructs._security.acknowledge_checkov`` beside the
construct's cdk-nag acknowledgments.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from decoupling_constructs._security import acknowledge_checkov
from stacks import REFERENCE_STACKS

from .test_reference_stacks import MIN_REASON_LENGTH

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = Path(os.environ.get("CHECKOV") or ROOT / ".venvs" / "checkov" / "bin" / "checkov")
# JSON out; no network: --skip-download fetches no guidelines and no policies from a platform.
CHECKOV_OPTIONS = ("--output", "json", "--skip-download", "--compact")
CHECKOV_TIMEOUT_SECONDS = 600  # one run over every reference template takes ~5 s on an idle core


@dataclass
class Scan:
    """One template's checkov result; resources named by construct path (``aws:cdk:path`` without ``/Resource``)."""

    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)  # (path, check id) -> reason


def construct_paths(stack: cdk.Stack) -> dict[str, str]:
    """logical id -> construct path (without ``/Resource``) of each resource of ``stack``."""
    return {
        stack.resolve(stack.get_logical_id(element)): element.node.path.removesuffix("/Resource")
        for element in stack.node.find_all()
        if isinstance(element, cdk.CfnElement)
    }


def run_checkov(stacks: dict[str, cdk.Stack], directory: Path) -> dict[str, Scan]:
    """checkov's CloudFormation checks over the templates of ``stacks`` (name -> stack), written into
    ``directory``."""
    assert CHECKOV.exists(), f"CHECKOV={CHECKOV} does not exist: run `make setup` (checkov has a venv of its own)"
    for name, stack in stacks.items():
        template = cdk.Stage.of(stack).synth().get_stack_artifact(stack.artifact_id).template
        (directory / f"{name}.template.json").write_text(json.dumps(template))
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(directory), "--framework", "cloudformation", *CHECKOV_OPTIONS],
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: some check failed
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["results"]["parsing_errors"]
    paths = {name: construct_paths(stack) for name, stack in stacks.items()}
    scans: dict[str, Scan] = defaultdict(Scan)
    for check in report["results"]["passed_checks"]:
        scans[Path(check["file_path"]).name.removesuffix(".template.json")].passed += 1
    for check in report["results"]["failed_checks"]:
        name = Path(check["file_path"]).name.removesuffix(".template.json")
        path = paths[name][check["resource"].split(".", 1)[1]]
        scans[name].failed.append(f"{check['check_id']} at {path}: {check['check_name']}")
    for check in report["results"]["skipped_checks"]:
        name = Path(check["file_path"]).name.removesuffix(".template.json")
        path = paths[name][check["resource"].split(".", 1)[1]]
        scans[name].skipped[(path, check["check_id"])] = check["check_result"]["suppress_comment"]
    return dict(scans)


# Every checkov skip in the reference app, reviewed: check -> construct paths. A new one fails the test until it
# is added here. The reasons are in the code that skips (grep the check id).
SSE_SQS_QUEUES = {
    f"{stack}/{queue}/{part}"
    for stack, queue in [
        ("DecouplingReliableQueue", "Jobs"),
        ("DecouplingConsumers", "Shipments/Queue"),
        ("DecouplingConsumers", "Invoices/Queue"),
        ("DecouplingConsumers", "Clicks/OnFailureQueue"),
        ("DecouplingQueueWorkers", "Renders"),
        ("DecouplingFanOut", "OrderEvents/Billing"),
        ("DecouplingFanOut", "OrderEvents/Shipping"),
        ("DecouplingFanOut", "OrderEvents/Analytics"),
        ("DecouplingFanOut", "NotifierFailures"),
        ("DecouplingFanOut", "PartnerDeadLetters"),
        ("DecouplingFanOut", "Ledger/Accounting"),
        ("DecouplingFanOut", "Ledger/Audit"),
    ]
    for part in ("Queue", "DeadLetterQueue")
} | {"DecouplingFanOut/Ledger/UndeliverableQueue", "DecouplingFirehoseTransform/Clicks/UndeliverableQueue"}
HANDLERS = {f"DecouplingConsumers/{name}Handler" for name in ("Shipments", "Invoices", "Clicks")}
START_FUNCTION = "DecouplingStreamProcessor/CountViews/StartFunction"
REVIEWED_SKIPS: dict[str, set[str]] = {
    # SSE-SQS: encrypted, but the CloudFormation check knows only KmsMasterKeyId (queue.py).
    "CKV_AWS_27": SSE_SQS_QUEUES,
    # No customer-managed key given: CloudWatch Logs' own encryption at rest.
    "CKV_AWS_158": {
        "DecouplingStreamToS3/Clickstream/DeliveryLogs",
        "DecouplingStreamToS3/AuditTrail/DeliveryLogs",
        "DecouplingMessageBroker/Orders/VpcFlowLogs",
        "DecouplingMessageBroker/AppVpcFlowLogs",
        "DecouplingQueueWorkers/FlowLogs",
        "DecouplingFanOut/NotifierLogs",
        "DecouplingFanOut/ArchiveDeliveryLogs",
        "DecouplingStreamToHttpEndpoint/Events/DeliveryLogs",
        "DecouplingFirehoseTransform/ClickLakeDeliveryLogs",
        "DecouplingFirehoseTransform/Views/DeliveryLogs",
        "DecouplingFirehoseTransform/ClickTransformLogs",
        *(f"{handler}Logs" for handler in HANDLERS),
        "DecouplingStreamProcessor/PageViews/DeliveryLogs",
        "DecouplingStreamProcessor/ViewCounts/DeliveryLogs",
        "DecouplingStreamProcessor/CountViews/Logs",
        "DecouplingStreamProcessor/CountViews/StartLogs",
    },
    # No encryption_key given: Secrets Manager's AWS-managed key, as the broker's AWS-owned key.
    "CKV_AWS_149": {
        "DecouplingMessageBroker/Orders/AdminSecret",
        "DecouplingMessageBroker/Events/AdminSecret",
        "DecouplingStreamToHttpEndpoint/EndpointAccessKey",
    },
    # Server-access-log buckets do not log into themselves.
    "CKV_AWS_18": {
        "DecouplingStreamToS3/Clickstream/AccessLogBucket",
        "DecouplingStreamToS3/ArchiveAccessLogs",
        "DecouplingFanOut/ArchiveAccessLogs",
        "DecouplingStreamProcessor/PageViews/AccessLogBucket",
        "DecouplingStreamProcessor/ViewCounts/AccessLogBucket",
        "DecouplingStreamToHttpEndpoint/BackupAccessLogs",
        "DecouplingFirehoseTransform/ClickLakeAccessLogs",
        "DecouplingFirehoseTransform/Views/AccessLogBucket",
        "DecouplingStreamToOpenSearch/ClickIndex/AccessLogBucket",
    },
    # Session Manager's actions take no resource ARN; Firehose's delivery ENIs (VPC delivery to OpenSearch) are
    # created and shared at run time.
    "CKV_AWS_111": {
        "DecouplingQueueWorkers/RenderFleet/Role/DefaultPolicy",
        "DecouplingStreamToOpenSearch/ClickIndex/DeliveryPolicy",
    },
    "CKV_AWS_109": {"DecouplingStreamToOpenSearch/ClickIndex/DeliveryPolicy"},
    # Audit logs need fine-grained access control; the reference domain's access is its access policy.
    "CKV_AWS_317": {"DecouplingStreamToOpenSearch/Search"},
    # Event-source-mapped functions: failures go to the queue's DLQ or the on-failure queue (QueueFunction,
    # StreamFunction); concurrency bounded by the mapping (max_concurrency, parallelization_factor), the
    # notifier's by asynchronous invocation; no private resource to reach from a VPC (the reference stacks).
    # StreamProcessor's start function: CloudFormation invokes it synchronously, once per deploy. The Firehose
    # transform: invoked synchronously by Firehose, which retries and keeps what fails (stacks/firehose_stack.py).
    "CKV_AWS_116": HANDLERS | {START_FUNCTION, "DecouplingFirehoseTransform/ClickTransform"},
    "CKV_AWS_115": HANDLERS
    | {"DecouplingFanOut/Notifier", START_FUNCTION, "DecouplingFirehoseTransform/ClickTransform"},
    "CKV_AWS_117": HANDLERS
    | {"DecouplingFanOut/Notifier", START_FUNCTION, "DecouplingFirehoseTransform/ClickTransform"},
}


def test_checkov_finds_nothing_unacknowledged_and_every_skip_is_reviewed(
    reference_stacks: dict[str, cdk.Stack], tmp_path: Path
) -> None:
    """One checkov run for every reference stack (one test, so one run also under xdist): no failed check,
    checks on every stack, and exactly the reviewed skips, each with a reason."""
    scans = run_checkov(reference_stacks, tmp_path)
    assert {stack_id: scans[stack_id].failed for stack_id in REFERENCE_STACKS} == {s: [] for s in REFERENCE_STACKS}
    assert all(scans[stack_id].passed > 0 for stack_id in REFERENCE_STACKS), "a template checkov ran no check on"
    found: dict[str, set[str]] = defaultdict(set)
    for scan in scans.values():
        for (path, check_id), reason in scan.skipped.items():
            assert len(reason) >= MIN_REASON_LENGTH, f"{path}: {check_id}: thin reason {reason!r}"
            found[check_id].add(path)
    assert dict(found) == REVIEWED_SKIPS


def test_checkov_is_live_and_reads_acknowledgments(tmp_path: Path) -> None:
    """Guards the tests above: an unencrypted queue must fail CKV_AWS_27, and the same queue acknowledged with
    ``acknowledge_checkov`` must be reported skipped with its reason, or they prove nothing."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Bad")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    acknowledged = sqs.Queue(stack, "Acknowledged", encryption=sqs.QueueEncryption.UNENCRYPTED)
    reason = "A queue of this test only, unencrypted to prove that checkov reads the skip."
    acknowledge_checkov(acknowledged, "CKV_AWS_27", reason)
    (tmp_path / "scan").mkdir()
    scan = run_checkov({"Bad": stack}, tmp_path / "scan")["Bad"]
    assert [f.split(":")[0] for f in scan.failed] == ["CKV_AWS_27 at Bad/Plain"]
    assert scan.skipped == {("Bad/Acknowledged", "CKV_AWS_27"): reason}
