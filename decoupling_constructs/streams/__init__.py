"""Kinesis constructs: a data stream delivered by Firehose, a Lambda consumer of a stream, and a Managed Flink
application processing a stream."""

from .stream_function import StreamFunction
from .stream_processor import FlinkCode, StreamProcessor
from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

__all__ = [
    "DEFAULT_DATA_PREFIX",
    "DEFAULT_ERROR_PREFIX",
    "FlinkCode",
    "StreamFunction",
    "StreamProcessor",
    "StreamToS3",
]
