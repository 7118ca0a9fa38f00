"""Kinesis constructs: a data stream delivered by Firehose (to S3, to an HTTPS endpoint, to OpenSearch), a Lambda
consumer of a stream, and a Managed Flink application processing a stream; Firehose's Lambda transform
(``LambdaTransform``, and ``apply_processing``/``render_processing`` for any delivery stream; see ``_transform``'s
module doc)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from ._transform import LambdaTransform, apply_processing, render_processing, transform_code
    from .stream_function import StreamFunction
    from .stream_processor import FlinkCode, StreamProcessor
    from .stream_to_http import StreamToHttpEndpoint
    from .stream_to_opensearch import IndexRotation, OpenSearchBackup, StreamToOpenSearch
    from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

_EXPORTS = {
    "DEFAULT_DATA_PREFIX": ".stream_to_s3",
    "DEFAULT_ERROR_PREFIX": ".stream_to_s3",
    "FlinkCode": ".stream_processor",
    "IndexRotation": ".stream_to_opensearch",
    "LambdaTransform": "._transform",
    "OpenSearchBackup": ".stream_to_opensearch",
    "StreamFunction": ".stream_function",
    "StreamProcessor": ".stream_processor",
    "StreamToHttpEndpoint": ".stream_to_http",
    "StreamToOpenSearch": ".stream_to_opensearch",
    "StreamToS3": ".stream_to_s3",
    "apply_processing": "._transform",
    "render_processing": "._transform",
    "transform_code": "._transform",
}
__all__ = [
    "DEFAULT_DATA_PREFIX",
    "DEFAULT_ERROR_PREFIX",
    "FlinkCode",
    "IndexRotation",
    "LambdaTransform",
    "OpenSearchBackup",
    "StreamFunction",
    "StreamProcessor",
    "StreamToHttpEndpoint",
    "StreamToOpenSearch",
    "StreamToS3",
    "apply_processing",
    "render_processing",
    "transform_code",
]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
