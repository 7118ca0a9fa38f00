"""SnsReceiver against messages signed here, in SNS's documented format, with a key and certificate made here.

The string to sign is built by this file's own ``documented_string_to_sign`` (not the module's), from the
Amazon SNS Developer Guide, "Verifying the signatures of Amazon SNS messages": each field's name, a newline,
its value, a newline, in the order Message, MessageId, Subject (if present), Timestamp, TopicArn, Type for a
Notification and Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for a
SubscriptionConfirmation or UnsubscribeConfirmation. Certificates are served by an injected fetch: no network.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import logging
import subprocess
import sys
import threading
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoupling_constructs.runtime import ANY_TOPIC, LruRequestIds, SnsMessage, SnsReceiver
from decoupling_constructs.runtime.sns_receiver import DEFAULT_SNS_HOSTS, MAX_FETCH_BYTES, urllib_fetch
from tests.runtime.examples import load_example

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:payments"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
OTHER_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fedcba9876543210.pem"
TOKEN = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09"
SUBSCRIBE_URL = f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={TOKEN}"

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def documented_string_to_sign(message: dict[str, Any]) -> bytes:
    names = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    text = "".join(f"{name}\n{message[name]}\n" for name in names if name in message)
    return text.encode("utf-8")


def make_certificate(key: rsa.RSAPrivateKey, *, days: int = 1, start: datetime | None = None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = start or datetime.now(UTC) - timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SNS_CERT = make_certificate(SNS_KEY)
ATTACKER_CERT = make_certificate(ATTACKER_KEY)


def sign(message: dict[str, Any], version: str = "2", key: rsa.RSAPrivateKey = SNS_KEY) -> dict[str, Any]:
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(documented_string_to_sign(message), padding.PKCS1v15(), algorithm)
    return {**message, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode()}


def notification(version: str = "2", *, subject: str | None = "Order placed", **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": '{"order": 42}\nsecond line',
        "Timestamp": "2026-12-07T15:00:00.000Z",
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:abc",
        "MessageAttributes": {"kind": {"Type": "String", "Value": "order"}},
    }
    if subject is not None:
        message["Subject"] = subject
    message.update(fields)
    return sign(message, version)


def confirmation(kind: str = "SubscriptionConfirmation", version: str = "2", **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": TOKEN,
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the "
        "SubscribeURL included in this message.",
        "SubscribeURL": SUBSCRIBE_URL,
        "Timestamp": "2026-12-07T14:59:00.000Z",
        "SigningCertURL": CERT_URL,
    }
    message.update(fields)
    return sign(message, version)


class FakeFetch:
    """Serves SNS's certificate at CERT_URL; any other URL gets another key's certificate (as an attacker's
    would be); the SubscribeURL answers like SNS. Every URL asked for is recorded."""

    def __init__(self, certs: dict[str, bytes] | None = None, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.certs = certs if certs is not None else {CERT_URL: SNS_CERT}
        self.fail = fail

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        if self.fail:
            raise OSError("network down")
        if "Action=ConfirmSubscription" in url:
            return b"<ConfirmSubscriptionResponse/>"
        return self.certs.get(url, ATTACKER_CERT)


class Inbox:
    def __init__(self, fail_times: int = 0) -> None:
        self.messages: list[SnsMessage] = []
        self.fail_times = fail_times

    def __call__(self, message: SnsMessage) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("downstream unavailable")
        self.messages.append(message)


def receiver(**options: Any) -> tuple[SnsReceiver, Inbox, FakeFetch]:
    inbox = options.pop("deliver", None) or Inbox()
    fetch = options.pop("fetch", None) or FakeFetch()
    options.setdefault("topic_arns", [TOPIC])
    return SnsReceiver(deliver=inbox, fetch=fetch, **options), inbox, fetch


def post(target: SnsReceiver, message: dict[str, Any] | str, headers: dict[str, str] | None = None) -> int:
    body = message if isinstance(message, str) else json.dumps(message)
    status, _, _ = target.handle(headers or {"x-amz-sns-message-type": _type_of(message)}, body.encode())
    return status


def _type_of(message: dict[str, Any] | str) -> str:
    return str(message.get("Type")) if isinstance(message, dict) else "Notification"


# --- the documented format ---------------------------------------------------------------------------------


def test_the_string_to_sign_is_the_guides_example() -> None:
    """The Notification example of "Verifying the signatures of Amazon SNS messages", verbatim."""
    example = {
        "Type": "Notification",
        "Message": "My Test Message",
        "MessageId": "4d4dc071-ddbf-465d-bba8-08f81c89da64",
        "Subject": "My subject",
        "Timestamp": "2019-01-31T04:37:04.321Z",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
    }
    expected = (
        "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\n"
        "Timestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
        "Type\nNotification\n"
    )
    assert documented_string_to_sign(example) == expected.encode()
    from decoupling_constructs.runtime.sns_receiver import string_to_sign

    assert string_to_sign(example) == expected.encode()


# --- accepted ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", ["Order placed", None])
def test_a_signed_notification_is_delivered(version: str, subject: str | None) -> None:
    target, inbox, fetch = receiver()
    message = notification(version, subject=subject)
    assert post(target, message) == 200
    (delivered,) = inbox.messages
    assert delivered.type == "Notification"
    assert delivered.message == '{"order": 42}\nsecond line'
    assert delivered.subject == subject
    assert delivered.message_id == message["MessageId"]
    assert delivered.topic_arn == TOPIC
    assert delivered.verified and not delivered.raw
    assert delivered.message_attributes == {"kind": {"Type": "String", "Value": "order"}}
    assert fetch.calls == [CERT_URL]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_subscription_confirmation_is_confirmed_by_its_subscribe_url(version: str) -> None:
    target, inbox, fetch = receiver()
    assert post(target, confirmation(version=version)) == 200
    assert fetch.calls == [CERT_URL, SUBSCRIBE_URL]
    assert inbox.messages == []


def test_a_failed_confirmation_get_answers_503_so_sns_sends_it_again() -> None:
    class SnsDown(FakeFetch):
        def __call__(self, url: str) -> bytes:
            if "Action=ConfirmSubscription" in url:
                self.calls.append(url)
                raise OSError("connection reset")
            return super().__call__(url)

    target, inbox, fetch = receiver(fetch=SnsDown())
    assert post(target, confirmation()) == 503
    assert fetch.calls == [CERT_URL, SUBSCRIBE_URL]
    assert inbox.messages == []


def test_confirm_false_hands_the_confirmation_to_deliver_without_visiting_it() -> None:
    target, inbox, fetch = receiver(confirm=False)
    assert post(target, confirmation()) == 200
    assert fetch.calls == [CERT_URL]
    (delivered,) = inbox.messages
    assert (delivered.type, delivered.token, delivered.subscribe_url) == (
        "SubscriptionConfirmation",
        TOKEN,
        SUBSCRIBE_URL,
    )


def test_an_unsubscribe_confirmation_is_acknowledged_and_never_resubscribed() -> None:
    target, inbox, fetch = receiver()
    assert post(target, confirmation("UnsubscribeConfirmation")) == 200
    assert fetch.calls == [CERT_URL]  # its SubscribeURL would restore the subscription: not visited
    assert inbox.messages == []


def test_any_topic_must_be_said_explicitly_and_then_accepts_other_topics() -> None:
    target, inbox, _ = receiver(topic_arns=ANY_TOPIC)
    assert post(target, notification(TopicArn=OTHER_TOPIC)) == 200
    assert [m.topic_arn for m in inbox.messages] == [OTHER_TOPIC]


# --- refused -----------------------------------------------------------------------------------------------

SIGNED_NOTIFICATION_FIELDS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]


@pytest.mark.parametrize("field_name", [*SIGNED_NOTIFICATION_FIELDS, "SignatureVersion", "Signature"])
def test_each_altered_field_of_a_notification_is_refused(field_name: str, caplog: pytest.LogCaptureFixture) -> None:
    target, inbox, _ = receiver(topic_arns=[TOPIC, OTHER_TOPIC])
    message = notification("1")
    altered = {
        "Message": "tampered",
        "MessageId": "00000000-0000-0000-0000-000000000000",
        "Subject": "tampered",
        "Timestamp": "2026-12-07T15:00:00.001Z",
        "TopicArn": OTHER_TOPIC,  # allowed too: only the signature catches it
        "Type": "SubscriptionConfirmation",
        "SignatureVersion": "2",
        "Signature": base64.b64encode(b"\x00" * 256).decode(),
    }[field_name]
    message[field_name] = altered
    assert post(target, message, headers={}) == 403
    assert inbox.messages == []
    (record,) = [r for r in caplog.records if r.name.endswith("sns_receiver")]
    assert "refused (403)" in record.getMessage() and "\n" not in record.getMessage()


@pytest.mark.parametrize("field_name", ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "Type"])
def test_each_altered_field_of_a_confirmation_is_refused_and_nothing_is_confirmed(field_name: str) -> None:
    target, _, fetch = receiver()
    message = confirmation()
    message[field_name] = {
        "SubscribeURL": SUBSCRIBE_URL + "x",
        "Type": "UnsubscribeConfirmation",
    }.get(field_name, "tampered")
    assert post(target, message, headers={}) == 403
    assert SUBSCRIBE_URL not in fetch.calls and all("Action=" not in url for url in fetch.calls)


def test_a_removed_subject_is_refused() -> None:
    target, inbox, _ = receiver()
    message = notification()
    del message["Subject"]
    assert post(target, message) == 403
    assert inbox.messages == []


@pytest.mark.parametrize(
    "change",
    [
        {"Signature": None},
        {"Signature": ""},
        {"Signature": "not base64 !"},
        {"SignatureVersion": "3"},
        {"SignatureVersion": None},
        {"SignatureVersion": 2},
    ],
    ids=["no-signature", "empty-signature", "bad-base64", "version-3", "no-version", "version-number"],
)
def test_unsigned_and_unknown_version_messages_are_refused(change: dict[str, Any]) -> None:
    target, inbox, _ = receiver()
    message = notification()
    for name, value in change.items():
        if value is None:
            del message[name]
        else:
            message[name] = value
    assert post(target, message) == 403
    assert inbox.messages == []


def test_a_message_of_another_topic_is_refused_before_anything_is_fetched() -> None:
    target, inbox, fetch = receiver()
    assert post(target, notification(TopicArn=OTHER_TOPIC)) == 403
    assert post(target, confirmation(TopicArn=OTHER_TOPIC)) == 403
    assert (inbox.messages, fetch.calls) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/cert.pem",
        "https://user@sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
        "https://s3.amazonaws.com/cert.pem",
        "file:///etc/passwd",
    ],
)
def test_a_signing_cert_url_off_the_sns_hosts_is_refused_without_fetching(url: str) -> None:
    target, inbox, fetch = receiver()
    assert post(target, notification(SigningCertURL=url)) == 403
    assert (inbox.messages, fetch.calls) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        f"https://evil.example/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=x",
        f"http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=x",
        f"https://sns.us-east-1.amazonaws.com/?Action=Publish&TopicArn={TOPIC}&Token=x",
        f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={OTHER_TOPIC}&Token=x",
    ],
    ids=["other-host", "http", "other-action", "other-topic"],
)
def test_a_subscribe_url_that_is_not_snss_confirmation_is_never_visited(url: str) -> None:
    """Signed with SNS's key (so only the URL check can refuse it), and nothing at all is fetched."""
    target, _, fetch = receiver()
    assert post(target, confirmation(SubscribeURL=url)) == 403
    assert fetch.calls == []


def test_a_message_type_header_that_differs_from_the_body_is_refused() -> None:
    target, inbox, _ = receiver()
    assert post(target, notification(), headers={"x-amz-sns-message-type": "SubscriptionConfirmation"}) == 403
    assert inbox.messages == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(body: str) -> None:
    target, inbox, fetch = receiver()
    assert post(target, body, headers={}) == 400
    assert (inbox.messages, fetch.calls) == ([], [])


def test_a_certificate_that_is_not_valid_now_is_refused() -> None:
    expired = make_certificate(SNS_KEY, days=1, start=datetime.now(UTC) - timedelta(days=3))
    target, inbox, _ = receiver(fetch=FakeFetch({CERT_URL: expired}))
    assert post(target, notification()) == 403
    assert inbox.messages == []


def test_a_certificate_that_cannot_be_fetched_answers_503_so_sns_retries() -> None:
    target, inbox, _ = receiver(fetch=FakeFetch(fail=True))
    assert post(target, notification()) == 503
    assert inbox.messages == []


def test_a_certificate_url_that_serves_no_pem_is_refused() -> None:
    target, _, _ = receiver(fetch=FakeFetch({CERT_URL: b"<html>not a certificate</html>"}))
    assert post(target, notification()) == 403


def test_fields_outside_the_string_to_sign_are_not_protected_by_it() -> None:
    """SNS signs neither UnsubscribeURL nor MessageAttributes: an altered one still verifies (documented)."""
    target, inbox, _ = receiver()
    message = notification()
    message["UnsubscribeURL"] = "https://evil.example/"
    message["MessageAttributes"] = {"kind": {"Type": "String", "Value": "forged"}}
    assert post(target, message) == 200
    assert inbox.messages[0].unsubscribe_url == "https://evil.example/"


# --- duplicates, failures, the certificate cache -------------------------------------------------------------


def test_a_duplicate_message_id_is_delivered_once() -> None:
    target, inbox, _ = receiver()
    message = notification()
    assert [post(target, message) for _ in range(3)] == [200, 200, 200]
    assert len(inbox.messages) == 1


def test_deliver_raising_answers_500_and_the_retry_is_delivered() -> None:
    target, inbox, _ = receiver(deliver=Inbox(fail_times=1))
    message = notification()
    assert post(target, message) == 500
    assert post(target, message) == 200
    assert len(inbox.messages) == 1


def test_the_seen_store_is_bounded_and_pluggable() -> None:
    seen = LruRequestIds(maxsize=2)
    target, inbox, _ = receiver(seen=seen)
    ids = ["a", "b", "c", "a"]
    for message_id in ids:
        assert post(target, notification(MessageId=message_id)) == 200
    # "a" was pushed out by "b" and "c", so its late copy is delivered again: the bound is the store's
    assert [m.message_id for m in inbox.messages] == ids


def test_the_certificate_is_fetched_once_and_the_cache_is_bounded() -> None:
    fetch = FakeFetch({CERT_URL: SNS_CERT, OTHER_CERT_URL: SNS_CERT})
    target, _, _ = receiver(fetch=fetch, cert_cache_size=1)
    for message_id in ("1", "2"):
        assert post(target, notification(MessageId=message_id)) == 200
    assert fetch.calls == [CERT_URL]
    assert post(target, notification(MessageId="3", SigningCertURL=OTHER_CERT_URL)) == 200
    assert post(target, notification(MessageId="4")) == 200
    assert fetch.calls == [CERT_URL, OTHER_CERT_URL, CERT_URL]


# --- raw delivery --------------------------------------------------------------------------------------------

RAW_HEADERS = {
    "x-amz-sns-message-type": "Notification",
    "x-amz-sns-message-id": "9f1c4c1e-0d5a-4c0b-9d0e-2d5c0f3f7a11",
    "x-amz-sns-topic-arn": TOPIC,
    "x-amz-sns-subscription-arn": f"{TOPIC}:c9135db0-26c4-47ec-8998-413945fb5a96",
    "x-amz-sns-rawdelivery": "true",
}


def test_raw_delivery_is_refused_without_the_opt_in() -> None:
    target, inbox, fetch = receiver()
    status, _, _ = target.handle(RAW_HEADERS, b'{"order": 42}')
    assert status == 403
    assert (inbox.messages, fetch.calls) == ([], [])


def test_raw_delivery_with_the_opt_in_is_delivered_unverified_once() -> None:
    target, inbox, fetch = receiver(raw_delivery=True)
    headers = {name.title(): value for name, value in RAW_HEADERS.items()}  # any case
    assert [target.handle(headers, b'{"order": 42}')[0] for _ in range(2)] == [200, 200]
    (delivered,) = inbox.messages
    assert (delivered.raw, delivered.verified, delivered.message) == (True, False, '{"order": 42}')
    assert delivered.subscription_arn == RAW_HEADERS["x-amz-sns-subscription-arn"]
    assert fetch.calls == []


@pytest.mark.parametrize(
    "change",
    [{"x-amz-sns-topic-arn": OTHER_TOPIC}, {"x-amz-sns-message-id": ""}, {"x-amz-sns-message-type": "Other"}],
    ids=["other-topic", "no-id", "other-type"],
)
def test_raw_delivery_still_checks_its_topic_and_id(change: dict[str, str]) -> None:
    target, inbox, _ = receiver(raw_delivery=True)
    assert target.handle({**RAW_HEADERS, **change}, b"x")[0] == 403
    assert inbox.messages == []


# --- Lambda -------------------------------------------------------------------------------------------------


def function_url_event(body: str, *, method: str = "POST", base64_encoded: bool = False) -> dict[str, Any]:
    """A Lambda Function URL event (payload 2.0, header names lower-cased as Lambda gives them)."""
    message_type = json.loads(body).get("Type", "Notification") if body else "Notification"
    return {
        "version": "2.0",
        "headers": {"x-amz-sns-message-type": message_type, "content-type": "text/plain; charset=UTF-8"},
        "requestContext": {"http": {"method": method, "path": "/"}},
        "body": base64.b64encode(body.encode()).decode() if base64_encoded else body,
        "isBase64Encoded": base64_encoded,
    }


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_lambda_handler_takes_a_function_url_event(base64_encoded: bool) -> None:
    target, inbox, _ = receiver()
    answer = target.lambda_handler(function_url_event(json.dumps(notification()), base64_encoded=base64_encoded))
    assert (answer["statusCode"], answer["body"], answer["isBase64Encoded"]) == (200, "ok", False)
    assert len(inbox.messages) == 1


def test_lambda_handler_refuses_other_methods_and_forgeries() -> None:
    target, inbox, _ = receiver()
    assert target.lambda_handler(function_url_event("", method="GET"))["statusCode"] == 405
    rest_get = {"httpMethod": "GET", "headers": {}, "body": None, "isBase64Encoded": False}  # REST API proxy event
    assert target.lambda_handler(rest_get)["statusCode"] == 405
    forged = notification()
    forged["Message"] = "forged"
    assert target.lambda_handler(function_url_event(json.dumps(forged)))["statusCode"] == 403
    assert inbox.messages == []


# --- the host allow-list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("sns.us-east-1.amazonaws.com", True),
        ("sns.eu-central-2.amazonaws.com", True),
        ("sns.ap-southeast-5.amazonaws.com", True),
        ("sns.us-gov-west-1.amazonaws.com", True),
        ("sns.cn-north-1.amazonaws.com.cn", True),
        ("sns.cn-northwest-1.amazonaws.com.cn", True),
        ("sns.amazonaws.com", False),
        ("sns.us-east-1.amazonaws.com.evil.example", False),
        ("xsns.us-east-1.amazonaws.com", False),
        ("sqs.us-east-1.amazonaws.com", False),
        ("sns.us-east-1.amazonaws.co", False),
    ],
)
def test_the_default_host_pattern_is_snss_hosts_in_every_partition(host: str, allowed: bool) -> None:
    import re

    assert bool(re.fullmatch(DEFAULT_SNS_HOSTS, host)) is allowed


def test_a_custom_host_pattern_replaces_the_default() -> None:
    target, inbox, _ = receiver(allowed_cert_hosts=r"sns\.eu-west-1\.amazonaws\.com")
    assert post(target, notification()) == 403  # us-east-1 is no longer allowed
    assert inbox.messages == []


# --- bad arguments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "text"),
    [
        ({"topic_arns": TOPIC}, TypeError, "topic_arns must be a list of topic ARNs or ANY_TOPIC"),
        ({"topic_arns": []}, ValueError, "topic_arns must name at least one topic ARN"),
        ({"topic_arns": ["orders"]}, ValueError, "topic_arns must be a topic ARN"),
        ({"deliver": "print"}, TypeError, "deliver must be a callable"),
        ({"raw_delivery": "yes"}, TypeError, "raw_delivery must be True or False"),
        ({"confirm": 1}, TypeError, "confirm must be True or False"),
        ({"allowed_cert_hosts": "sns.(["}, ValueError, "allowed_cert_hosts must be a regular expression"),
        ({"seen": []}, TypeError, "seen must be a RequestIdStore"),
        ({"fetch": "urllib"}, TypeError, "fetch must be a callable"),
        ({"cert_cache_size": 0}, ValueError, "cert_cache_size must be 1-1000"),
    ],
)
def test_bad_arguments_are_refused_naming_the_class_and_argument(
    options: dict[str, Any], error: type[Exception], text: str
) -> None:
    arguments: dict[str, Any] = {"topic_arns": [TOPIC], "deliver": print, **options}
    with pytest.raises(error, match=r"^SnsReceiver: " + text.replace("(", r"\(").replace("[", r"\[")):
        SnsReceiver(**arguments)


def test_the_receivers_run_without_boto3() -> None:
    """The runtime package imports lazily: a WSGI app with the receivers and the transform needs no boto3."""
    code = (
        "import sys; sys.modules['boto3'] = sys.modules['botocore'] = None\n"
        "from decoupling_constructs.runtime import FirehoseHttpReceiver, SnsReceiver, ANY_TOPIC, firehose_transform\n"
        "SnsReceiver(topic_arns=ANY_TOPIC, deliver=print); FirehoseHttpReceiver('k', deliver=print)\n"
        "firehose_transform(lambda data, record: data)\n"
        "import decoupling_constructs.runtime as rt\n"
        "try:\n    rt.QueueConsumer\nexcept ImportError:\n    print('boto3 helpers need boto3')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert (result.returncode, result.stdout) == (0, "boto3 helpers need boto3\n"), result.stderr


def test_importing_the_receiver_loads_neither_aws_cdk_nor_cryptography() -> None:
    """cryptography is imported on the first message to verify."""
    code = (
        "import sys, decoupling_constructs.runtime.sns_receiver; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'cryptography')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- property: any single-field alteration is refused ------------------------------------------------------

PROTECTED = {
    "Notification": [*SIGNED_NOTIFICATION_FIELDS, "SignatureVersion", "Signature", "SigningCertURL"],
    "SubscriptionConfirmation": [*CONFIRMATION_FIELDS, "SignatureVersion", "Signature", "SigningCertURL"],
}
OTHER_SNS_CERT_URLS = st.from_regex(r"https://sns\.us-east-1\.amazonaws\.com/[A-Za-z0-9-]{1,20}\.pem", fullmatch=True)


@st.composite
def altered_messages(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kind = draw(st.sampled_from(sorted(PROTECTED)))
    version = draw(st.sampled_from(["1", "2"]))
    if kind == "Notification":
        subject = draw(st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]), max_size=20)))
        message = notification(version, subject=subject)
    else:
        message = confirmation(version=version)
    name = draw(st.sampled_from(PROTECTED[kind] + (["Subject"] if kind == "Notification" else [])))
    if name == "SigningCertURL":
        new: Any = draw(st.one_of(OTHER_SNS_CERT_URLS, st.text(max_size=40)))
    else:
        new = draw(st.one_of(st.none(), st.text(max_size=40), st.integers(), st.sampled_from([TOPIC, OTHER_TOPIC])))
    if new == message.get(name) or (new is None and name not in message):
        new = str(message.get(name)) + "x"
    if new is None:
        del message[name]
    else:
        message[name] = new
    return message, name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(altered=altered_messages())
def test_any_single_field_alteration_of_a_signed_message_is_refused(altered: tuple[dict[str, Any], str]) -> None:
    message, _ = altered
    target, inbox, fetch = receiver(topic_arns=[TOPIC, OTHER_TOPIC])
    status = post(target, message, headers={})
    assert status == 403
    assert inbox.messages == []
    assert all("Action=ConfirmSubscription" not in url for url in fetch.calls)


# --- the docs' sample: examples/sns_receiver_function.py -----------------------------------------------------


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("ORDERS_TOPIC_ARN", TOPIC)
    module = load_example("sns_receiver_function")
    module.receiver.fetch = FakeFetch()  # its default fetch would go to SNS over the network
    return module


def test_sample_lambda_handler_confirms_then_delivers_each_order_once(
    sample: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orders")
    assert sample.handler(function_url_event(json.dumps(confirmation())), None)["statusCode"] == 200
    assert SUBSCRIBE_URL in sample.receiver.fetch.calls
    order = notification(Message=json.dumps({"id": "o-42"}))
    assert [sample.handler(function_url_event(json.dumps(order)), None)["statusCode"] for _ in range(2)] == [200, 200]
    assert [r.getMessage() for r in caplog.records if r.name == "orders"] == ["order o-42 received"]


def test_sample_wsgi_app_delivers_refuses_forgeries_and_answers_500_on_a_bad_order(
    sample: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orders")

    def call(message: dict[str, Any]) -> str:
        body = json.dumps(message).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": message["Type"],
            "wsgi.input": io.BytesIO(body),
        }
        statuses: list[str] = []
        b"".join(sample.wsgi_app(environ, lambda status, headers: statuses.append(status)))
        return statuses[0]

    assert call(notification(Message=json.dumps({"id": "o-7"}))) == "200 OK"
    forged = notification(Message=json.dumps({"id": "o-8"}))
    forged["Message"] = json.dumps({"id": "o-9"})
    assert call(forged) == "403 Error"
    assert call(notification(Message="not an order", MessageId="m-2")) == "500 Error"
    assert [r.getMessage() for r in caplog.records if r.name == "orders"] == ["order o-7 received"]


# --- the default fetch, against a local server (127.0.0.1, stopped by the test) ------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.end_headers()
            return
        body = b"x" * (MAX_FETCH_BYTES + 1) if self.path == "/big" else SNS_CERT
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_default_fetch_reads_a_body_refuses_redirects_and_caps_the_size(local_server: str) -> None:
    """urllib_fetch is only ever given https URLs on SNS hosts (checked before); plain http here, to run locally."""
    assert urllib_fetch(f"{local_server}/cert.pem") == SNS_CERT
    with pytest.raises(urllib.error.HTTPError, match="302"):
        urllib_fetch(f"{local_server}/redirect")
    with pytest.raises(ValueError, match="over 65536 bytes"):
        urllib_fetch(f"{local_server}/big")


def test_the_default_fetch_is_urllib_fetch() -> None:
    assert SnsReceiver(topic_arns=[TOPIC], deliver=print).fetch is urllib_fetch
