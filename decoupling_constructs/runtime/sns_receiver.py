"""A receiver for Amazon SNS HTTP/HTTPS subscriptions: confirms, verifies, de-duplicates, delivers.

``SnsReceiver(topic_arns=[...], deliver=fn)`` gives ``handle(headers, body) -> (status, headers, body)`` for
any WSGI/ASGI app and ``lambda_handler(event, context)`` for a Lambda Function URL or an API Gateway HTTP API
(payload format 2.0). No aws-cdk-lib, no boto3; signature checks need ``cryptography`` (the ``receivers``
extra), imported on the first message to verify.

What it does with each POST, as the Amazon SNS Developer Guide documents it:

* **Signature** ("Verifying the signatures of Amazon SNS messages",
  https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html): ``SignatureVersion`` 1 is
  SHA1withRSA, 2 is SHA256withRSA, over the string to sign: for each field, its name, a newline, its value, a
  newline, in byte-sort order: ``Message, MessageId, Subject`` (if present), ``Timestamp, TopicArn, Type`` for a
  ``Notification``; ``Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type`` for a
  ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation``. The certificate is fetched only from a
  ``SigningCertURL`` that is https on an SNS host (``allowed_cert_hosts``), through a verified TLS connection,
  and cached (bounded). Unsigned, unknown-version, altered or wrong-topic messages are refused with 403 and one
  log line. ``SigningCertURL``, ``UnsubscribeURL`` and ``MessageAttributes`` are not in the string to sign: SNS
  does not sign them (the certificate is trusted for its host and TLS, not for the message).
* **Topics**: only the ``TopicArn`` values of ``topic_arns`` (or any, with ``topic_arns=ANY_TOPIC``), checked
  before anything is fetched (the guide: "Reject any message with an unexpected TopicArn").
* **Confirmation** ("HTTP/HTTPS subscription confirmation JSON format"): a verified ``SubscriptionConfirmation``
  is confirmed by a GET of its ``SubscribeURL``, only when that URL is https on an SNS host, asks
  ``Action=ConfirmSubscription`` and names the message's own topic. With ``confirm=False`` it is handed to
  ``deliver`` instead (``SnsMessage.token``), to confirm with ConfirmSubscription yourself. A verified
  ``UnsubscribeConfirmation`` is logged and acknowledged; its ``SubscribeURL`` (which would restore the
  subscription) is never visited.
* **Duplicates**: SNS keeps a notification's ``MessageId`` through its retries ("HTTP/HTTPS notification JSON
  format"); a ``MessageId`` delivered successfully is not delivered again (``seen``: a ``RequestIdStore``, the
  protocol ``FirehoseHttpReceiver`` uses too; by default an ``LruRequestIds`` of 10,000 ids in this process; pass
  one over a shared store to de-duplicate across processes). Two copies arriving at the same moment can both be
  delivered: delivery is at least once.
* **Raw delivery** ("Amazon SNS raw message delivery"): the body is the message itself and SNS adds the
  header ``x-amz-sns-rawdelivery: true``. There is no signature, so a raw message **cannot be verified**: anyone
  who can reach the endpoint can forge one, headers included. It is refused (403) unless ``raw_delivery=True``;
  then its topic (header ``x-amz-sns-topic-arn``) must still be allowed and it is delivered with
  ``SnsMessage.verified=False``. Protect such an endpoint some other way (basic auth in the subscription URL,
  a secret path, a private network).
* **Status**: 200 once delivered (or a duplicate); 500 when ``deliver`` raises, so SNS retries by the
  subscription's delivery policy; 503 when a certificate or the confirmation GET cannot be fetched (transient);
  400 for a body that is not a JSON object; 405 for a method other than POST (Lambda).

Partitions: SNS's endpoints are ``sns.<region>.amazonaws.com`` in the commercial and the AWS GovCloud (US)
Regions ("Amazon Simple Notification Service endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/sns.html)
and ``sns.<region>.amazonaws.com.cn`` in the China Regions ("The endpoint domain for both the Beijing and Ningxia
Regions is amazonaws.com.cn", https://docs.amazonaws.cn/en_us/general/latest/gr/endpoints-Beijing.html).
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import json
import logging
import re
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from .. import _rules as r
from .._validate import PropTypeError, validating_helper
from .firehose import LruRequestIds, RequestIdStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

logger = logging.getLogger(__name__)

#: SNS's own hosts (see the module docstring for the pages): sns.<region>.amazonaws.com (commercial, GovCloud)
#: and sns.<region>.amazonaws.com.cn (China). Matched against the whole lower-cased host.
DEFAULT_SNS_HOSTS: Final = r"sns\.[a-z]{2}(?:-gov)?-[a-z]+-\d+\.amazonaws\.com(?:\.cn)?"

NOTIFICATION: Final = "Notification"
SUBSCRIPTION_CONFIRMATION: Final = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION: Final = "UnsubscribeConfirmation"

# The string to sign, per message type, in the documented (byte-sort) order ("Verifying the signatures of
# Amazon SNS messages"); Subject is in it only when the notification has one.
SIGNED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    UNSUBSCRIBE_CONFIRMATION: ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
OPTIONAL_SIGNED_FIELDS: Final = frozenset({"Subject"})
SIGNATURE_VERSIONS: Final = ("1", "2")  # 1: SHA1withRSA, 2: SHA256withRSA

DEFAULT_SEEN_SIZE: Final = 10_000
DEFAULT_CERT_CACHE_SIZE: Final = 16
FETCH_TIMEOUT_SECONDS: Final = 5.0
MAX_FETCH_BYTES: Final = 64 * 1024  # a PEM certificate is a few KiB; the confirmation answer is small XML

Response = tuple[int, dict[str, str], bytes]


class AnyTopic(enum.Enum):
    """``topic_arns=ANY_TOPIC``: accept a correctly signed message of any topic (say so explicitly)."""

    ANY = "any"


ANY_TOPIC: Final = AnyTopic.ANY


@dataclass(frozen=True)
class SnsMessage:
    """What ``deliver`` receives.

    ``verified`` is True for an enveloped message whose signature was checked, False for a raw-delivery one
    (nothing to check). ``message_attributes`` and ``unsubscribe_url`` are outside the string SNS signs.
    ``token`` and ``subscribe_url`` are set only for a ``SubscriptionConfirmation`` (``confirm=False``).
    """

    type: str
    message_id: str
    topic_arn: str
    message: str
    subject: str | None = None
    timestamp: str | None = None
    raw: bool = False
    verified: bool = True
    subscription_arn: str | None = None
    message_attributes: Mapping[str, Any] = field(default_factory=dict)
    unsubscribe_url: str | None = None
    token: str | None = None
    subscribe_url: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off the SNS host the URL was checked for: refused (urllib raises HTTPError)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def urllib_fetch(url: str) -> bytes:
    """The default ``fetch``: GET over https with certificate and host-name verification, no redirects, a 5 s
    timeout and at most 64 KiB read. Raises on any failure (the receiver answers 503)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl.create_default_context()), _NoRedirect()
    )
    with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as answer:
        data: bytes = answer.read(MAX_FETCH_BYTES + 1)
    if len(data) > MAX_FETCH_BYTES:
        raise ValueError(f"answer of {url} is over {MAX_FETCH_BYTES} bytes")
    return data


class Rejected(Exception):
    """A message refused; ``status`` is the answer, the text the log line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The documented string to sign of an SNS message (raises :class:`Rejected` 403 if a field is missing)."""
    kind = message.get("Type")
    if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
        raise Rejected(403, f"unknown Type {_short(kind)}")
    lines: list[str] = []
    for name in SIGNED_FIELDS[kind]:
        if name not in message and name in OPTIONAL_SIGNED_FIELDS:
            continue
        value = message.get(name)
        if not isinstance(value, str):
            raise Rejected(403, f"{name} missing or not a string")
        lines += [name, value]
    try:
        return ("\n".join(lines) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON "\\ud800"): not text SNS signs
        raise Rejected(403, "a signed field is not valid Unicode") from None


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _https_url_on(url: object, hosts: re.Pattern[str], what: str) -> urllib.parse.SplitResult:
    """``url`` as parts when it is https on an allowed host (default port, no user info), else Rejected 403."""
    if not isinstance(url, str):
        raise Rejected(403, f"{what} missing")
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        raise Rejected(403, f"{what} is not https: {_short(url)}")
    if parts.username is not None or port not in (None, 443) or not hosts.fullmatch(host):
        raise Rejected(403, f"{what} is not on an allowed SNS host: {_short(url)}")
    return parts


def _pattern(hosts: str | re.Pattern[str]) -> re.Pattern[str]:
    return hosts if isinstance(hosts, re.Pattern) else re.compile(hosts)


def _check_topics(prop: str, value: object, ctx: r.Context) -> None:
    if value is ANY_TOPIC:
        return
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise PropTypeError(f"{prop} must be a list of topic ARNs or ANY_TOPIC, got {r.show(value)}")
    arns = list(value)
    if not arns:
        raise ValueError(f"{prop} must name at least one topic ARN (or be ANY_TOPIC), got an empty list")
    for arn in arns:
        r.Text("a topic ARN (arn:<partition>:sns:<region>:<account>:<name>)", pattern=_SNS_ARN).check(prop, arn, ctx)


def _check_hosts(prop: str, value: object, ctx: r.Context) -> None:
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(
                f"{prop} must be a regular expression for SNS host names, got {value!r} ({error})"
            ) from None
    elif not isinstance(value, re.Pattern):
        raise PropTypeError(f"{prop} must be a regular expression (str or re.Pattern), got {r.show(value)}")


_SNS_ARN: Final = r"arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
_CALLABLE = "a callable"

RULES: Final = r.Rules(
    {
        "topic_arns": r.Custom(function=_check_topics, text="a list of topic ARNs, or ANY_TOPIC"),
        "deliver": r.Custom(
            function=lambda prop, value, ctx: None if callable(value) else _not_callable(prop, value),
            text="a callable taking an SnsMessage",
        ),
        "allowed_cert_hosts": r.Custom(function=_check_hosts, text="a regular expression for SNS host names"),
        "seen": r.Interface(
            "a RequestIdStore (`id in seen`, seen.add(id)), e.g. LruRequestIds", ("__contains__", "add"), optional=True
        ),
        "fetch": r.Custom(
            function=lambda prop, value, ctx: None if callable(value) else _not_callable(prop, value),
            text="a callable taking a URL and returning bytes",
            optional=True,
        ),
        "confirm": r.Bool(),
        "raw_delivery": r.Bool(),
        "cert_cache_size": r.Int(1, 1000),
    }
)


def _not_callable(prop: str, value: object) -> None:
    raise PropTypeError(f"{prop} must be {_CALLABLE}, got {r.show(value)}")


class SnsReceiver:
    """Receives what SNS POSTs to an HTTP/HTTPS subscription (see the module docstring for every rule).

    :param topic_arns: the topics whose messages are accepted, or ``ANY_TOPIC``.
    :param deliver: called with each new verified ``SnsMessage``; raising answers 500 so SNS retries.
    :param allowed_cert_hosts: the hosts ``SigningCertURL`` and ``SubscribeURL`` may name (a regular expression
        matched against the whole host; default: SNS's hosts in every partition, :data:`DEFAULT_SNS_HOSTS`).
    :param seen: where delivered ``MessageId`` values are kept, a ``RequestIdStore`` (default: ``LruRequestIds``
        of 10,000 ids in this process); ``add`` is called only after ``deliver`` returned.
    :param fetch: GETs a URL and returns its body (default :func:`urllib_fetch`); tests inject their own.
    :param confirm: confirm subscriptions by their ``SubscribeURL`` (default); False hands them to ``deliver``.
    :param raw_delivery: accept raw-delivery messages, which carry no signature (default False: 403).
    :param cert_cache_size: how many signing certificates are kept (by URL).
    """

    def __init__(
        self,
        *,
        topic_arns: Iterable[str] | AnyTopic,
        deliver: Callable[[SnsMessage], None],
        allowed_cert_hosts: str | re.Pattern[str] = DEFAULT_SNS_HOSTS,
        seen: RequestIdStore | None = None,
        fetch: Callable[[str], bytes] | None = None,
        confirm: bool = True,
        raw_delivery: bool = False,
        cert_cache_size: int = DEFAULT_CERT_CACHE_SIZE,
    ) -> None:
        with validating_helper(type(self).__name__):
            RULES.check_values(
                {
                    "topic_arns": topic_arns,
                    "deliver": deliver,
                    "allowed_cert_hosts": allowed_cert_hosts,
                    "seen": seen,
                    "fetch": fetch,
                    "confirm": confirm,
                    "raw_delivery": raw_delivery,
                    "cert_cache_size": cert_cache_size,
                },
                r.Context(owner=type(self)),
            )
        self.topic_arns: frozenset[str] | None = None if topic_arns is ANY_TOPIC else frozenset(topic_arns)
        self.deliver = deliver
        self.allowed_cert_hosts = _pattern(allowed_cert_hosts)
        self.seen: RequestIdStore = seen if seen is not None else LruRequestIds(DEFAULT_SEEN_SIZE)
        self.fetch = fetch if fetch is not None else urllib_fetch
        self.confirm = confirm
        self.raw_delivery = raw_delivery
        # by SigningCertURL, bounded; a failed fetch or a refused certificate raises, so it is not cached
        self._public_key = functools.lru_cache(maxsize=cert_cache_size)(self._load_public_key)

    # --- entry points ----------------------------------------------------------------------------------

    def handle(self, headers: Mapping[str, str], body: bytes | str) -> Response:
        """One POST from SNS: ``(status, response headers, response body)``. Header names in any case."""
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        try:
            if lowered.get("x-amz-sns-rawdelivery", "").lower() == "true":
                return self._raw(lowered, body)
            return self._enveloped(lowered, body)
        except Rejected as rejection:
            logger.warning("SNS message refused (%d): %s", rejection.status, rejection)
            return _answer(rejection.status, str(rejection) if rejection.status != 403 else "forbidden")

    def lambda_handler(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """A Lambda Function URL or API Gateway event (HTTP API payload 2.0, or a REST API proxy event): the answer
        in that format."""
        method = (event.get("requestContext") or {}).get("http", {}).get("method") or event.get("httpMethod") or "POST"
        if method != "POST":
            status, headers, body = _answer(405, "POST only")
        else:
            raw_body = event.get("body") or ""
            data: bytes | str = raw_body
            if event.get("isBase64Encoded"):
                try:
                    data = base64.b64decode(raw_body, validate=True)
                except (binascii.Error, ValueError):
                    data = b""
            status, headers, body = self.handle(event.get("headers") or {}, data)
        return {"statusCode": status, "headers": headers, "body": body.decode("utf-8"), "isBase64Encoded": False}

    # --- the two shapes of a POST ------------------------------------------------------------------------

    def _raw(self, headers: Mapping[str, str], body: bytes | str) -> Response:
        if not self.raw_delivery:
            raise Rejected(403, "raw delivery is not signed and raw_delivery=False")
        if headers.get("x-amz-sns-message-type") != NOTIFICATION:
            raise Rejected(403, f"raw message type {_short(headers.get('x-amz-sns-message-type'))}")
        topic = headers.get("x-amz-sns-topic-arn", "")
        self._check_topic(topic)
        message_id = headers.get("x-amz-sns-message-id", "")
        if not message_id:
            raise Rejected(403, "raw message without x-amz-sns-message-id")
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        return self._deliver_once(
            SnsMessage(
                type=NOTIFICATION,
                message_id=message_id,
                topic_arn=topic,
                message=text,
                raw=True,
                verified=False,
                subscription_arn=headers.get("x-amz-sns-subscription-arn"),
            )
        )

    def _enveloped(self, headers: Mapping[str, str], body: bytes | str) -> Response:
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "body is not JSON") from None
        if not isinstance(message, dict):
            raise Rejected(400, "body is not a JSON object")
        kind = message.get("Type")
        header_kind = headers.get("x-amz-sns-message-type")
        if header_kind is not None and header_kind != kind:
            raise Rejected(403, f"x-amz-sns-message-type {_short(header_kind)} differs from Type {_short(kind)}")
        self._check_topic(message.get("TopicArn"))
        signed = string_to_sign(
            message
        )  # Type is then one of the three  # before any fetch: a malformed message costs nothing
        cert_url = _https_url_on(message.get("SigningCertURL"), self.allowed_cert_hosts, "SigningCertURL").geturl()
        subscribe_url = self._check_subscribe_url(message) if kind == SUBSCRIPTION_CONFIRMATION else None
        self._verify(message, signed, cert_url)
        if kind == UNSUBSCRIBE_CONFIRMATION:
            logger.info(
                "SNS unsubscribed this endpoint from %s (MessageId %s)", message["TopicArn"], message["MessageId"]
            )
            return _answer(200, "ok")
        if subscribe_url is not None and self.confirm:
            return self._confirm(subscribe_url, message["TopicArn"])
        return self._deliver_once(
            SnsMessage(
                type=str(kind),
                message_id=message["MessageId"],
                topic_arn=message["TopicArn"],
                message=message["Message"],
                subject=message.get("Subject"),
                timestamp=message["Timestamp"],
                subscription_arn=headers.get("x-amz-sns-subscription-arn"),
                message_attributes=_attributes(message.get("MessageAttributes")),
                unsubscribe_url=_text_or_none(message.get("UnsubscribeURL")),
                token=message.get("Token") if kind == SUBSCRIPTION_CONFIRMATION else None,
                subscribe_url=message.get("SubscribeURL") if kind == SUBSCRIPTION_CONFIRMATION else None,
            )
        )

    # --- checks ------------------------------------------------------------------------------------------

    def _check_topic(self, topic: object) -> None:
        if not isinstance(topic, str) or not topic:
            raise Rejected(403, "no TopicArn")
        if self.topic_arns is not None and topic not in self.topic_arns:
            raise Rejected(403, f"TopicArn {_short(topic)} is not in topic_arns")

    def _check_subscribe_url(self, message: Mapping[str, Any]) -> str:
        """The URL to GET (as parsed and checked), else Rejected 403."""
        parts = _https_url_on(message.get("SubscribeURL"), self.allowed_cert_hosts, "SubscribeURL")
        query = urllib.parse.parse_qs(parts.query)
        if query.get("Action") != ["ConfirmSubscription"] or query.get("TopicArn") != [message.get("TopicArn")]:
            raise Rejected(403, "SubscribeURL does not confirm this message's topic")
        return parts.geturl()

    def _verify(self, message: Mapping[str, Any], signed: bytes, cert_url: str) -> None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        version = message.get("SignatureVersion")
        if version not in SIGNATURE_VERSIONS:
            raise Rejected(403, f"SignatureVersion {_short(version)} is not 1 or 2")
        encoded = message.get("Signature")
        if not isinstance(encoded, str) or not encoded:
            raise Rejected(403, "unsigned (no Signature)")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise Rejected(403, "Signature is not Base64") from None
        key = self._public_key(cert_url)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # SignatureVersion 1 is SHA1withRSA
        try:
            key.verify(signature, signed, padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise Rejected(
                403, f"signature does not match (MessageId {_short(message.get('MessageId'))}, v{version})"
            ) from None

    def _load_public_key(self, cert_url: str) -> RSAPublicKey:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import rsa

        try:
            pem = self.fetch(cert_url)
        except Exception as error:
            raise Rejected(503, f"cannot fetch SigningCertURL {cert_url}: {type(error).__name__}") from None
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise Rejected(403, f"SigningCertURL {cert_url} is not a PEM certificate") from None
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Rejected(403, f"the certificate of {cert_url} is not valid now")
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise Rejected(403, f"the certificate of {cert_url} has no RSA key")
        return public_key

    # --- actions -----------------------------------------------------------------------------------------

    def _confirm(self, subscribe_url: str, topic_arn: str) -> Response:
        try:
            self.fetch(subscribe_url)
        except Exception as error:
            raise Rejected(503, f"confirmation GET failed: {type(error).__name__}") from None
        logger.info("SNS subscription to %s confirmed", topic_arn)
        return _answer(200, "confirmed")

    def _deliver_once(self, message: SnsMessage) -> Response:
        if message.message_id in self.seen:
            logger.info("SNS message %s already delivered: skipped", message.message_id)
            return _answer(200, "duplicate")
        try:
            self.deliver(message)
        except Exception:
            logger.exception("deliver failed for SNS message %s: answering 500 so SNS retries", message.message_id)
            return _answer(500, "deliver failed")
        self.seen.add(message.message_id)
        return _answer(200, "ok")


def _answer(status: int, text: str) -> Response:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode("utf-8")


def _attributes(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
