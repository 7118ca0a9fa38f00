"""Kinesis constructs: a data stream delivered by Firehose, and a Lambda consumer of a stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from .stream_function import StreamFunction
    from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

_EXPORTS = {
    "DEFAULT_DATA_PREFIX": ".stream_to_s3",
    "DEFAULT_ERROR_PREFIX": ".stream_to_s3",
    "StreamFunction": ".stream_function",
    "StreamToS3": ".stream_to_s3",
}
__all__ = ["DEFAULT_DATA_PREFIX", "DEFAULT_ERROR_PREFIX", "StreamFunction", "StreamToS3"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
