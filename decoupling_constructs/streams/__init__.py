"""Kinesis constructs: a data stream delivered by Firehose, and a Lambda consumer of a stream; Firehose's Lambda
transform (``LambdaTransform``, see ``_transform``'s module doc for the helpers other delivery streams use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from ._transform import LambdaTransform
    from .stream_function import StreamFunction
    from .stream_to_opensearch import IndexRotation, OpenSearchBackup, StreamToOpenSearch
    from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

_EXPORTS = {
    "DEFAULT_DATA_PREFIX": ".stream_to_s3",
    "DEFAULT_ERROR_PREFIX": ".stream_to_s3",
    "LambdaTransform": "._transform",
    "IndexRotation": ".stream_to_opensearch",
    "OpenSearchBackup": ".stream_to_opensearch",
    "StreamFunction": ".stream_function",
    "StreamToOpenSearch": ".stream_to_opensearch",
    "StreamToS3": ".stream_to_s3",
}
__all__ = [
    "DEFAULT_DATA_PREFIX",
    "DEFAULT_ERROR_PREFIX",
    "IndexRotation",
    "LambdaTransform",
    "OpenSearchBackup",
    "StreamFunction",
    "StreamToOpenSearch",
    "StreamToS3",
]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
