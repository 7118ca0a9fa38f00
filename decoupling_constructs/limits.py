"""The AWS service limits the library checks against, in one place and without aws-cdk-lib.

The constructs (synth-time validation), the capacity planner and the boto3 runtime helpers all read
their numbers here, so a limit AWS changes is changed once. Each number names the AWS document it
comes from. Sizes are bytes unless the name says otherwise.
"""

from __future__ import annotations

from typing import Final

# --- Amazon SQS ---------------------------------------------------------------------------------
# Queue attributes (SQS API reference, CreateQueue / SetQueueAttributes; SQS developer guide,
# "Amazon SQS message quotas").
SQS_MAX_WAIT_SECONDS: Final = 20  # ReceiveMessageWaitTimeSeconds and ReceiveMessage WaitTimeSeconds: 0-20
SQS_MAX_VISIBILITY_SECONDS: Final = 12 * 60 * 60  # VisibilityTimeout: 0 s - 12 hours (43,200 s)
SQS_MIN_RETENTION_SECONDS: Final = 60  # MessageRetentionPeriod: 60 s (1 minute) ...
SQS_MAX_RETENTION_SECONDS: Final = 14 * 24 * 60 * 60  # ... to 1,209,600 s (14 days)
SQS_MAX_DELAY_SECONDS: Final = 900  # DelaySeconds (queue and SendMessage): 0-900 s (15 minutes)
SQS_MAX_RECEIVE_COUNT: Final = 1000  # RedrivePolicy maxReceiveCount: 1-1,000
# QueueName: 1-80 alphanumerics, hyphens and underscores, the ".fifo" suffix of a FIFO queue included.
SQS_QUEUE_NAME_MAX: Final = 80
# ReceiveMessage MaxNumberOfMessages, SendMessageBatch, DeleteMessageBatch and
# ChangeMessageVisibilityBatch: at most 10 entries.
SQS_MAX_BATCH_ENTRIES: Final = 10
# A message (body and attributes), and a SendMessageBatch as a whole: at most 1 MiB (1,048,576 bytes)
# since AWS raised MaximumMessageSize in August 2025 (SendMessage, SendMessageBatch).
SQS_MAX_MESSAGE_BYTES: Final = 1_048_576
SQS_MAX_MESSAGE_ATTRIBUTES: Final = 10  # SendMessage MessageAttributes: at most 10 per message
# StartMessageMoveTask MaxNumberOfMessagesPerSecond: "The maximum value for messages per second is 500."
SQS_MAX_MOVE_MESSAGES_PER_SECOND: Final = 500

# --- Amazon SNS ---------------------------------------------------------------------------------
SNS_TOPIC_NAME_MAX: Final = 256  # CreateTopic Name: 1-256 characters, the ".fifo" suffix included
# PublishBatch: at most 10 entries; "the maximum allowed individual message size and the maximum total
# payload size (the sum of the individual lengths of all of the batched messages) are both 256 KiB
# (262,144 bytes)", body and attributes counted (SNS API reference, PublishBatch). A topic whose
# MaximumMessageSize attribute was raised allows up to 1 MiB per message and per batch.
SNS_MAX_BATCH_ENTRIES: Final = 10
SNS_DEFAULT_MAX_BYTES: Final = 262_144
SNS_MAX_BYTES: Final = 1_048_576
SNS_MAX_SUBJECT_CHARS: Final = 100  # Publish Subject: at most 100 printable ASCII characters
SNS_MAX_MESSAGE_ATTRIBUTES: Final = 10  # Publish MessageAttributes: at most 10 per message
# HTTP/S delivery policy (SNS developer guide, "Amazon SNS message delivery retries",
# https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html): numRetries 0-100;
# minDelayTarget and maxDelayTarget 1-3,600 s; "The total policy retry time for an HTTP/S endpoint cannot be
# greater than 3,600 seconds. This is a hard limit and cannot be increased."; maxReceivesPerSecond 1 or more.
SNS_HTTP_MAX_RETRIES: Final = 100
SNS_HTTP_MAX_DELAY_SECONDS: Final = 3600
SNS_HTTP_MAX_TOTAL_RETRY_SECONDS: Final = 3600
# E.164 ("The international public telecommunication numbering plan", ITU-T): '+', a country code that does
# not start with 0, at most 15 digits in all; SNS takes SMS numbers in E.164 (SNS developer guide, "Mobile
# text messaging (SMS)").
E164_MAX_DIGITS: Final = 15

# --- Amazon Kinesis Data Streams ----------------------------------------------------------------
# Kinesis Data Streams developer guide, "Quotas and limits": retention 24 hours (the default) to
# 8,760 hours (365 days).
KINESIS_MIN_RETENTION_HOURS: Final = 24
KINESIS_MAX_RETENTION_HOURS: Final = 8760
KINESIS_MAX_SHARD_COUNT: Final = 1_000_000  # CreateStream ShardCount: the API's valid range, 1-1,000,000
# Per shard ("Quotas and limits"): writes up to 1 MiB/s or 1,000 records/s; reads up to 2 MiB/s, shared
# by all shared-throughput consumers (per consumer with enhanced fan-out), in up to 5 GetRecords calls/s.
KINESIS_WRITE_MIB_PER_SHARD: Final = 1.0
KINESIS_WRITE_RECORDS_PER_SHARD: Final = 1000
KINESIS_READ_MIB_PER_SHARD: Final = 2.0
KINESIS_GET_RECORDS_CALLS_PER_SHARD: Final = 5
KINESIS_MAX_ENHANCED_FAN_OUT_CONSUMERS: Final = 20  # RegisterStreamConsumer: 20 consumers per stream
# The default shard quota of an account in us-east-1, us-west-2 and eu-west-1 ("Quotas and limits";
# 1,000 or 6,000 in other regions).
KINESIS_DEFAULT_SHARD_QUOTA: Final = 20_000
# PutRecords (Kinesis Data Streams API reference): 500 records per call, each up to 1 MiB and the call
# up to 5 MiB, "including partition keys"; PartitionKey 1-256 characters.
KINESIS_MAX_RECORDS: Final = 500
KINESIS_MAX_RECORD_BYTES: Final = 1_048_576
KINESIS_MAX_CALL_BYTES: Final = 5_242_880
KINESIS_MAX_PARTITION_KEY_CHARS: Final = 256

# --- Amazon Data Firehose (S3 destination) ------------------------------------------------------
# Firehose API reference: S3DestinationConfiguration Prefix and ErrorOutputPrefix 0-1,024 characters;
# BufferingHints IntervalInSeconds 0-900, SizeInMBs 1-128.
FIREHOSE_MAX_PREFIX_LENGTH: Final = 1024
FIREHOSE_MAX_BUFFERING_SECONDS: Final = 900
FIREHOSE_MIN_BUFFERING_MIB: Final = 1
FIREHOSE_MAX_BUFFERING_MIB: Final = 128
# Firehose API reference, HttpEndpointBufferingHints: SizeInMBs 1-64, IntervalInSeconds 0-900
# (https://docs.aws.amazon.com/firehose/latest/APIReference/API_HttpEndpointBufferingHints.html);
# HttpEndpointRetryOptions DurationInSeconds 0-7,200 (API_HttpEndpointRetryOptions.html);
# HttpEndpointConfiguration Url 1-1,000 characters matching https://.*, Name 1-256 (API_HttpEndpointConfiguration.html);
# HttpEndpointCommonAttribute AttributeName 1-256, AttributeValue 0-1,024 (API_HttpEndpointCommonAttribute.html);
# at most 50 common attributes per request (Firehose developer guide, "Appendix - HTTP Endpoint Delivery Request
# and Response Specifications", X-Amz-Firehose-Common-Attributes).
FIREHOSE_HTTP_MAX_BUFFERING_MIB: Final = 64
FIREHOSE_HTTP_MAX_RETRY_SECONDS: Final = 7200
FIREHOSE_HTTP_MAX_URL_LENGTH: Final = 1000
FIREHOSE_HTTP_MAX_NAME_LENGTH: Final = 256
FIREHOSE_HTTP_MAX_ATTRIBUTE_NAME_LENGTH: Final = 256
FIREHOSE_HTTP_MAX_ATTRIBUTE_VALUE_LENGTH: Final = 1024
FIREHOSE_HTTP_MAX_COMMON_ATTRIBUTES: Final = 50

# --- Amazon Data Firehose (runtime: Lambda transform and HTTP endpoint) -------------------------
# "The Lambda synchronous invocation mode has a payload size limit of 6 MB for both the request and the
# response" (Firehose developer guide, "Transform source data in Amazon Data Firehose",
# https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html; Lambda API reference, Invoke:
# "For synchronous invocations, the maximum payload size is 6 MB"). Read as 6,000,000 bytes, the smaller of
# the decimal and binary readings, so a response kept under it fits either way.
FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES: Final = 6_000_000
# Firehose developer guide, "Understand HTTP endpoint delivery request and response specifications"
# (https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html): the body is "up to a
# maximum of 64 MiB, before compression", with 1-10,000 records; the access key is at most 4,096 bytes;
# the response body 1 MiB or less, its errorMessage at most 8,192 characters.
FIREHOSE_HTTP_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
FIREHOSE_HTTP_MAX_RECORDS: Final = 10_000
FIREHOSE_HTTP_MAX_ACCESS_KEY_BYTES: Final = 4096
FIREHOSE_HTTP_MAX_ERROR_MESSAGE_CHARS: Final = 8192

# --- Amazon Managed Service for Apache Flink --------------------------------------------------
# Developer guide, "Implement application scaling" (how-scaling.html): Parallelism "default value is 1, and the
# maximum is 256"; ParallelismPerKPU "default value is 1, and the maximum is 8"; the application's KPU quota "is
# 64" by default (a Service Quotas increase raises it); KPUs = Parallelism / ParallelismPerKPU.
FLINK_MAX_PARALLELISM: Final = 256
FLINK_MAX_PARALLELISM_PER_KPU: Final = 8
FLINK_DEFAULT_MAX_KPUS: Final = 64
# API reference, PropertyGroup: at most 50 properties per group, keys and values 1-2,048 characters;
# EnvironmentProperties PropertyGroups: at most 50 groups.
FLINK_MAX_PROPERTY_GROUPS: Final = 50
FLINK_MAX_PROPERTIES_PER_GROUP: Final = 50
FLINK_MAX_PROPERTY_CHARS: Final = 2048

# --- Firehose to Amazon OpenSearch Service ------------------------------------------------------
# Firehose API reference: AmazonopensearchserviceBufferingHints (SizeInMBs 1-100, IntervalInSeconds 0-900),
# AmazonopensearchserviceRetryOptions (DurationInSeconds 0-7200), AmazonopensearchserviceDestinationConfiguration
# (IndexName: "Length Constraints: Minimum length of 1. Maximum length of 80.").
FIREHOSE_OPENSEARCH_MIN_BUFFERING_MIB: Final = 1
FIREHOSE_OPENSEARCH_MAX_BUFFERING_MIB: Final = 100
FIREHOSE_OPENSEARCH_MAX_RETRY_SECONDS: Final = 7200
FIREHOSE_OPENSEARCH_MAX_INDEX_NAME_LENGTH: Final = 80
# OpenSearch create-index API, "Index naming restrictions" (and Elasticsearch's): at most 255 bytes.
OPENSEARCH_MAX_INDEX_NAME_BYTES: Final = 255

# --- Firehose Lambda transform ------------------------------------------------------------------
# Firehose developer guide, "Transform source data in Amazon Data Firehose" (data-transformation.html): "The
# buffering size hint ranges between 0.2 MB and 3MB" (default 1 MB), "The Lambda buffering interval hint ranges
# between 0 and 900 seconds" (default 60 s), and "Firehose supports a Lambda invocation time of up to 5 minutes".
# ProcessorParameter (API reference): default 3 for NumberOfRetries (no upper bound documented); ParameterValue
# is a string of 1-512 characters, so a fractional BufferSizeInMBs ("0.25", the Splunk default 256 KB) is valid.
FIREHOSE_TRANSFORM_MIN_BUFFER_KIB: Final = 205  # 0.2 MiB = 204.8 KiB, in whole KiB
FIREHOSE_TRANSFORM_MAX_BUFFER_MIB: Final = 3
FIREHOSE_TRANSFORM_MAX_BUFFER_SECONDS: Final = 900
FIREHOSE_TRANSFORM_MAX_INVOCATION_SECONDS: Final = 300
