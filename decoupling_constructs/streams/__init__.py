"""Kinesis constructs: a data stream delivered by Firehose (to S3, to an HTTPS endpoint), and a Lambda consumer
of a stream."""

from .stream_function import StreamFunction
from .stream_to_http import StreamToHttpEndpoint
from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

__all__ = ["DEFAULT_DATA_PREFIX", "DEFAULT_ERROR_PREFIX", "StreamFunction", "StreamToHttpEndpoint", "StreamToS3"]
