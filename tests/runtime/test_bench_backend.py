"""The benchmark's second backend (benchmarks/moto_sqs_fixed.py) changes how fast moto checks a message's
retention, never the answer: the fixed check agrees with moto's own on fresh and expired messages."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import sqs_backends

from benchmarks.moto_sqs_fixed import is_message_valid_based_on_retention_period


@pytest.mark.parametrize("age_seconds", [0, 59, 61, 3600])
def test_fixed_retention_check_agrees_with_moto(age_seconds: int) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
        backend = sqs_backends["123456789012"]["us-east-1"]
        message = backend.get_queue("q")._messages[0]
        message.sent_timestamp -= age_seconds * 1000
        expected = backend.is_message_valid_based_on_retention_period("q", message)
        assert expected is (age_seconds < 60)
        assert is_message_valid_based_on_retention_period(backend, "q", message) is expected
