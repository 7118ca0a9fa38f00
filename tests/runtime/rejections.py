"""A botocore hook that makes the service reject a whole batch call for one bad entry (shared by the producer
tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def reject_calls_holding(
    client: Any,
    operation: str,
    entries_param: str,
    is_bad: Callable[[dict[str, Any]], bool],
    code: str = "InvalidMessageContents",
) -> list[int]:
    """Fail (before sending) every ``operation`` call holding an entry ``is_bad`` picks, the way SQS rejects a
    whole batch for one bad entry (HTTP 400, e.g. InvalidMessageContents). Returns the size of each call made,
    rejected or not."""
    sizes: list[int] = []
    service = client.meta.service_model.service_id.hyphenize()

    def look(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        entries = params[entries_param]
        sizes.append(len(entries))
        context["reject"] = any(is_bad(entry) for entry in entries)

    def hook(model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == operation and context.get("reject"):
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": "rejected by the test", "Type": "Sender"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                operation,
            )

    client.meta.events.register(f"provide-client-params.{service}.{operation}", look)
    # On the same node as ApiCallCounter's hook and after it, so rejected calls are counted too.
    client.meta.events.register_last("before-call.*.*", hook)
    return sizes
