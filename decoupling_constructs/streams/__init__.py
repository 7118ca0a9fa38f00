"""Kinesis constructs: a data stream delivered by Firehose, and a Lambda consumer of a stream; Firehose's Lambda
transform (``LambdaTransform``, see ``_transform``'s module doc for the helpers other delivery streams use)."""

from ._transform import LambdaTransform, apply_processing, render_processing, transform_code
from .stream_function import StreamFunction
from .stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX, StreamToS3

__all__ = [
    "DEFAULT_DATA_PREFIX",
    "DEFAULT_ERROR_PREFIX",
    "LambdaTransform",
    "StreamFunction",
    "StreamToS3",
    "apply_processing",
    "render_processing",
    "transform_code",
]
