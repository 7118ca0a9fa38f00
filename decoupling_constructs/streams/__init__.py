"""Kinesis constructs: a data stream delivered by Firehose (to S3, to an HTTPS endpoint), a Lambda consumer of a
stream, and a Managed Flink application processing a stream; Firehose's Lambda transform (``LambdaTransform``, see
``_transform``'s module doc for the helpers other delivery streams use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from ._transform import LambdaTransform
    from .stream_function import StreamFunction
    from .stream_processor import FlinkCode, StreamProcessor
    from .stream_to_http import StreamToHttpEndpoint
    from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

_EXPORTS = {
    "DEFAULT_DATA_PREFIX": ".stream_to_s3",
    "DEFAULT_ERROR_PREFIX": ".stream_to_s3",
    "FlinkCode": ".stream_processor",
    "LambdaTransform": "._transform",
    "StreamFunction": ".stream_function",
    "StreamProcessor": ".stream_processor",
    "StreamToHttpEndpoint": ".stream_to_http",
    "StreamToS3": ".stream_to_s3",
}
__all__ = [
    "DEFAULT_DATA_PREFIX",
    "DEFAULT_ERROR_PREFIX",
    "FlinkCode",
    "LambdaTransform",
    "StreamFunction",
    "StreamProcessor",
    "StreamToHttpEndpoint",
    "StreamToS3",
]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
