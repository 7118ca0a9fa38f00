"""``python -m decoupling_constructs.runtime``: redrive and peek dead-letter queues from a shell.

See ``python -m decoupling_constructs.runtime --help``. Credentials, region and endpoint come from the usual boto3
configuration (``AWS_PROFILE``, ``AWS_ENDPOINT_URL``, ...); a redrive uses the region of the DLQ's ARN.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from .redrive import METHODS, RedriveError, RedriveResult, peek, redrive

__all__ = ["EXIT_AWS_ERROR", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AWS_ERROR = 3

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  done (redrive: every message moved, or the task started with --no-wait)
  {EXIT_FAILED}  the redrive failed, was cancelled or left messages behind
  {EXIT_USAGE}  usage error (bad arguments, malformed ARN, no destination to be found)
  {EXIT_AWS_ERROR}  AWS error (e.g. the queue does not exist, access denied, no credentials)
"""

PEEK_DESCRIPTION = """\
Show messages of a queue without deleting them. SQS can only show a message by receiving it, so each message
shown was received once more: its ApproximateReceiveCount (shown as "receives") went up by 1.

On a queue with a redrive policy that count is what moves a message to the dead-letter queue, so peek refuses
such a queue (exit code 2): peek its dead-letter queue instead, or pass --force for one receive that raises each
message's count by 1 (a message whose count already reached maxReceiveCount is moved by it, as the next
consumer's receive would move it). A queue without a redrive policy (a DLQ) is received repeatedly with
VisibilityTimeout=0 until N messages are found.
"""

PEEK_NOTE = "note: peeking is a receive: the receive count of each message shown went up by 1 (included above)\n"

# Show a progress bar only for moves of at least this many messages.
PROGRESS_BAR_MIN_MESSAGES = 20


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m decoupling_constructs.runtime",
        description="Look at and redrive SQS dead-letter queues.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done (to stderr)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    move = commands.add_parser(
        "redrive",
        help="move the messages of a dead-letter queue back to their source queue",
        description="Move the messages of a dead-letter queue back to their source queue (or --destination).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    move.add_argument("dlq_arn", metavar="DLQ_ARN", help="ARN of the dead-letter queue")
    move.add_argument(
        "--destination",
        metavar="ARN",
        help="queue to move the messages to (default: the queue they came from; with --method copy the one queue "
        "whose redrive policy targets the DLQ)",
    )
    move.add_argument("--max-per-second", metavar="N", type=_positive_int, help="rate limit (1-500 messages/s)")
    move.add_argument(
        "--method",
        choices=METHODS,
        default="auto",
        help="api: SQS StartMessageMoveTask; copy: receive, send, delete; auto (default): the API, else copy",
    )
    move.add_argument(
        "--no-wait", action="store_true", help="api: return once the task has started (copy always waits)"
    )
    move.add_argument("--poll-interval", metavar="S", type=float, default=1.0, help="api: seconds between polls")
    move.set_defaults(func=_redrive_command)

    look = commands.add_parser(
        "peek",
        help="show messages of a queue (a DLQ) without deleting them; each shown message's receive count goes up by 1",
        description=PEEK_DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    look.add_argument("dlq_url", metavar="DLQ_URL", help="URL of the queue")
    look.add_argument("-n", metavar="N", type=_positive_int, default=10, help="at most N messages (default 10)")
    look.add_argument("--json", action="store_true", help="print the messages as a JSON list")
    look.add_argument(
        "--force",
        action="store_true",
        help="peek a queue that has a redrive policy: one receive (at most 10 messages), each message's receive "
        "count +1; a message already at maxReceiveCount moves to the DLQ",
    )
    look.set_defaults(func=_peek_command)
    return parser


class _ProgressBar:
    """A rich progress bar on stderr for long moves, only when stderr is a terminal and rich is installed."""

    def __init__(self, stream: TextIO) -> None:
        self._enabled = stream.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _traceback: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, result: RedriveResult) -> None:
        if not self._enabled or result.to_move is None:
            return
        if self._progress is None:
            if result.to_move < PROGRESS_BAR_MIN_MESSAGES:
                return
            try:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            except ImportError:
                self._enabled = False
                return
            self._progress = Progress(
                TextColumn(f"redrive ({result.method})"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("redrive", total=result.to_move)
        self._progress.update(self._task, total=max(result.to_move, result.moved), completed=result.moved)


def _redrive_command(args: argparse.Namespace) -> int:
    with _ProgressBar(sys.stderr) as bar:
        result = redrive(
            args.dlq_arn,
            destination_arn=args.destination,
            max_per_second=args.max_per_second,
            wait=not args.no_wait,
            poll_interval=args.poll_interval,
            on_progress=bar.update,
            method=args.method,
        )
    destination = result.destination_arn or "their source queues"
    if result.running:
        sys.stdout.write(f"started message move task {result.task_handle}: {args.dlq_arn} -> {destination}\n")
        return EXIT_OK
    to_move = "?" if result.to_move is None else str(result.to_move)
    line = f"{result.status}: moved {result.moved} of {to_move} messages from {args.dlq_arn} to {destination}"
    sys.stdout.write(f"{line} (method {result.method}, {result.elapsed:.1f} s)\n")
    if result.failure_reason:
        sys.stderr.write(f"failure: {result.failure_reason}\n")
    return EXIT_OK if result.ok else EXIT_FAILED


def _timestamp(milliseconds: str | None) -> str:
    if not milliseconds:
        return "-"
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC).isoformat(timespec="seconds")


def _peek_command(args: argparse.Namespace) -> int:
    messages = peek(args.dlq_url, n=args.n, force=args.force)
    if messages:
        sys.stderr.write(PEEK_NOTE)
    if args.json:
        shown = [{key: value for key, value in m.items() if key != "ReceiptHandle"} for m in messages]
        sys.stdout.write(json.dumps(shown, indent=2, sort_keys=True) + "\n")
        return EXIT_OK
    if not messages:
        sys.stdout.write("no messages\n")
        return EXIT_OK
    for message in messages:
        attributes = message.get("Attributes", {})
        group = attributes.get("MessageGroupId")
        sys.stdout.write(
            f"{message['MessageId']}  sent {_timestamp(attributes.get('SentTimestamp'))}"
            f"  receives {attributes.get('ApproximateReceiveCount', '?')}"
            + (f"  group {group}" if group else "")
            + "\n"
        )
        for name, value in sorted(message.get("MessageAttributes", {}).items()):
            shown_value = value.get("StringValue", "<binary>")
            sys.stdout.write(f"  {name} ({value.get('DataType')}): {shown_value}\n")
        sys.stdout.write(f"  {message['Body']}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (argparse exits with 2 itself on a usage error, 0 on --help)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        code: int = args.func(args)
    except (ClientError, BotoCoreError) as error:
        sys.stderr.write(f"AWS error: {error}\n")
        return EXIT_AWS_ERROR
    except (ValueError, RedriveError) as error:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
