"""Count the AWS API calls a boto3 client makes, by operation name.

Shared by the runtime helpers (``consumer``, ``redrive``, ``producer``, ``stream``) so that their stats can
report ``api_calls`` the same way.

Usage::

    counter = ApiCallCounter(client)        # registers a botocore "before-call.*.*" hook (first) on this client
    client.send_message(QueueUrl=..., MessageBody="x")
    counter.counts                          # {"SendMessage": 1}   (a copy, safe to keep)
    counter.total                           # 1
    counter.snapshot()                      # same as counts: a point-in-time copy
    counter.detach()                        # unregister the hook (optional)

Notes:

* The hook fires once per *operation call*, before the request is sent, so botocore's own retries of one
  call are not counted again, and a call that then fails (e.g. a ``ClientError``) still counts.
* The hook is registered on ``client.meta.events``, which only that client instance uses: counters on
  different clients are independent. Several counters may be attached to the same client.
* Thread-safe: boto3 clients are thread-safe and may be shared by worker threads; increments are
  done under a lock.
* The hook is registered *first* (``register_first``): a ``before-call`` handler that returns a response ends the
  event for the handlers after it, and ``botocore.stub.Stubber`` does exactly that. Stubbed calls are counted.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["ApiCallCounter"]


class ApiCallCounter:
    """Thread-safe count of a boto3 client's API calls by operation name (e.g. ``"ReceiveMessage"``)."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._events: Any = client.meta.events
        # A unique id lets several counters live on one client and lets detach() remove exactly this one.
        self._unique_id = f"decoupling-constructs-api-call-counter-{id(self)}"
        # First, because a handler returning a response (e.g. botocore's Stubber) ends the event for the rest.
        self._events.register_first("before-call.*.*", self._on_call, unique_id=self._unique_id)

    def _on_call(self, model: Any = None, **_kwargs: Any) -> None:
        name = getattr(model, "name", None) or "Unknown"
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    @property
    def counts(self) -> dict[str, int]:
        """A copy of the counts by operation name."""
        return self.snapshot()

    @property
    def total(self) -> int:
        """All calls counted so far."""
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        """A point-in-time copy of the counts by operation name."""
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        """Forget the counts so far (the hook stays registered)."""
        with self._lock:
            self._counts.clear()

    def detach(self) -> None:
        """Unregister the hook; the counts stay readable."""
        self._events.unregister("before-call.*.*", unique_id=self._unique_id)
