"""FanOut.add_https_endpoint in MiniStack, after the real ``cdk deploy``, driving ``runtime.SnsReceiver`` through the
subscription confirmation and a delivery.

What is real here, and what is not (each step says so where it happens):

* The stack is deployed by the CDK CLI into MiniStack (change sets, as against AWS).
* MiniStack's CloudFormation creates the http subscription but never confirms it: no ``SubscriptionConfirmation``
  is sent and it holds no token, so nothing would ever be delivered. The first test pins that. The labelled
  completion ``sns-http-subscription-by-api`` (``decoupling_constructs.testing.completion``) then subscribes the
  same endpoint through the SNS API with the template's attributes, as CloudFormation does on AWS, and the
  verification report names it.
* The endpoint is plain ``http://127.0.0.1`` (``allow_http=True``): MiniStack posts with urllib, which would
  verify a TLS certificate against the system's CAs, and a test cannot give 127.0.0.1 one they trust.
* MiniStack signs everything ``"FAKE"`` (SignatureVersion 1) and puts its own ``http://`` host in ``SubscribeURL``:
  a real receiver rightly refuses both. So the test's endpoint RE-SIGNS each POST before handing it to the
  receiver, exactly in SNS's documented format, with a key and certificate made in tests/runtime (served at an SNS
  host by the receiver's ``fetch``), and writes the ``SubscribeURL`` on SNS's host; ``fetch`` sends that GET on to
  MiniStack. The confirmation itself is MiniStack's: its token, its ConfirmSubscription.
* Not proven here (no emulator does it): SNS's retries and backoff by the delivery policy, the redrive to the
  dead-letter queue, delivery-status logs, and signatures of real SNS certificates (tests/runtime covers those
  with signed messages; the retry bound and DLQ placement are template tests in tests/unit).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from decoupling_constructs import FanOut, HttpDeliveryPolicy
from decoupling_constructs.runtime import SnsMessage, SnsReceiver
from decoupling_constructs.testing import (
    LABELLED_COMPLETIONS,
    Deployment,
    complete_http_subscriptions,
    verify,
)
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack
from stacks import app_context
from tests.runtime.test_sns_receiver import SNS_CERT, sign

pytestmark = [pytest.mark.xdist_group("ministack-https-push")]

STACK = "DecouplingHttpsPush"
SNS_HOST = "https://sns.us-east-1.amazonaws.com"
TEST_CERT_URL = f"{SNS_HOST}/SimpleNotificationService-test-signed.pem"
SERVER_LIFETIME_SECONDS = 600  # the endpoint stops by itself after this, whatever happens to the test


class Endpoint:
    """An http endpoint on 127.0.0.1: records what MiniStack POSTs and answers with the receiver's answer."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.answers: list[int] = []
        self.receiver: SnsReceiver | None = None
        self.ministack_url = ""
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                message = json.loads(body)
                endpoint.posts.append((headers, message))
                status, answer_headers, answer = endpoint.answer(headers, message)
                endpoint.answers.append(status)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sns"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._stopper = threading.Timer(SERVER_LIFETIME_SECONDS, self.server.shutdown)
        self._stopper.daemon = True

    def __enter__(self) -> Endpoint:
        self._thread.start()
        self._stopper.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopper.cancel()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, headers: dict[str, str], message: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if self.receiver is None:
            return 200, {}, b""
        # RE-SIGNED BY THE TEST (MiniStack signs "FAKE"): the SNS format, the test's key, the SubscribeURL on SNS's
        # host (the receiver's fetch sends that GET on to MiniStack).
        resigned = {k: v for k, v in message.items() if k not in ("Signature", "SignatureVersion")}
        resigned["SigningCertURL"] = TEST_CERT_URL
        if "SubscribeURL" in resigned:
            parts = urllib.parse.urlsplit(resigned["SubscribeURL"])
            resigned["SubscribeURL"] = f"{SNS_HOST}/?{parts.query}"
        return self.receiver.handle(headers, json.dumps(sign(resigned, "2")).encode())

    def fetch(self, url: str) -> bytes:
        """The receiver's fetch: the test's certificate at TEST_CERT_URL; SNS's ConfirmSubscription GET on to
        MiniStack (the same query); nothing else."""
        if url == TEST_CERT_URL:
            return SNS_CERT
        if url.startswith(f"{SNS_HOST}/?"):
            with urllib.request.urlopen(f"{self.ministack_url}/?{url.split('?', 1)[1]}", timeout=10) as response:
                return bytes(response.read())
        raise OSError(f"the test serves no {url}")


def wait_for(condition: Any, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Deployment, FanOut, Endpoint]]:
    logs = tmp_path_factory.mktemp("ministack-https-push")
    with Endpoint() as endpoint, ministack(log_file=logs / "ministack.log") as emulator:
        endpoint.ministack_url = emulator.endpoint_url
        outdir = tmp_path_factory.mktemp("https-push-cdk.out")
        app = cdk.App(outdir=str(outdir), context=app_context())
        stack = cdk.Stack(app, STACK)
        fan_out = FanOut(stack, "Orders")
        fan_out.add_https_endpoint(
            "Receiver",
            endpoint.url,
            allow_http=True,  # MiniStack cannot reach a 127.0.0.1 TLS endpoint it trusts: see the module docstring
            delivery_policy=HttpDeliveryPolicy(num_retries=2),
        )
        template = app.synth().get_stack_by_name(STACK).template
        cdk_deploy(Path(outdir), [STACK], emulator, log_file=logs / "cdk.log")
        deployment = emulator.deployment(STACK, template)
        deployment._stack = stack
        yield emulator, deployment, fan_out, endpoint


def test_ministacks_cloudformation_subscription_is_never_confirmed(pushed) -> None:
    """Why the completion exists: after `cdk deploy` the subscription exists, unconfirmed (MiniStack keeps no
    PendingConfirmation attribute for it), no confirmation is POSTed, and a published message is not delivered."""
    _, deployment, fan_out, endpoint = pushed
    logical_id = deployment.logical_id(fan_out.subscriptions["Receiver"])
    sns = deployment.client("sns")
    topic_arn = deployment.topic_arn(fan_out.topic)
    listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Endpoint"]) for s in listed] == [(deployment.resources[logical_id], endpoint.url)]
    attributes = sns.get_subscription_attributes(SubscriptionArn=deployment.resources[logical_id])["Attributes"]
    assert attributes.get("PendingConfirmation") != "false"
    assert not wait_for(lambda: endpoint.posts, seconds=3), endpoint.posts
    sns.publish(TopicArn=topic_arn, Message="before the completion")
    assert not wait_for(lambda: endpoint.posts, seconds=3), endpoint.posts


def test_the_receiver_confirms_the_completed_subscription_and_receives_a_notification(pushed) -> None:
    _, deployment, fan_out, endpoint = pushed
    topic_arn = deployment.topic_arn(fan_out.topic)
    inbox: list[SnsMessage] = []
    endpoint.receiver = SnsReceiver(topic_arns=[topic_arn], deliver=inbox.append, fetch=endpoint.fetch)
    logical_id = deployment.logical_id(fan_out.subscriptions["Receiver"])

    # LABELLED COMPLETION: MiniStack's CloudFormation subscription replaced by an API-made one (see the docstring).
    completed = complete_http_subscriptions(deployment)
    assert list(completed) == [logical_id]
    assert list(deployment.completions) == [logical_id]
    assert deployment.completions[logical_id].startswith("sns-http-subscription-by-api: completion: ")
    report = verify(deployment)  # no mismatch
    assert report.completions == [f"{logical_id} (AWS::SNS::Subscription): {deployment.completions[logical_id]}"]
    assert f"{logical_id} (AWS::SNS::Subscription): sns-http-subscription-by-api" in report.summary()
    assert "sns-http-subscription-by-api" in LABELLED_COMPLETIONS
    subscription = next(f for f in report.matches if f.logical_id == logical_id and f.property == "DeliveryPolicy")
    assert subscription.expected["healthyRetryPolicy"]["numRetries"] == 2

    # MiniStack's real SubscriptionConfirmation: the receiver verifies it (re-signed) and GETs its SubscribeURL.
    assert wait_for(lambda: endpoint.answers), "no SubscriptionConfirmation arrived"
    headers, confirmation = endpoint.posts[0]
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["Signature"] == "FAKE"  # why the test re-signs
    assert endpoint.answers[0] == 200
    sns = deployment.client("sns")
    arn = deployment.resources[logical_id]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert json.loads(attributes["DeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 2
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == deployment.queue_arn(
        fan_out.undeliverable_queue
    )

    # A real notification through MiniStack, delivered once by the receiver.
    sns.publish(TopicArn=topic_arn, Message='{"order": 42}', Subject="Order placed")
    assert wait_for(lambda: inbox), f"nothing delivered; endpoint answered {endpoint.answers}"
    (message,) = inbox
    assert (message.type, message.message, message.topic_arn) == ("Notification", '{"order": 42}', topic_arn)
    assert message.verified  # by the test's re-signature, not MiniStack's
    assert endpoint.answers == [200, 200]

    # The same notification again (as SNS retries keep the MessageId): acknowledged, not delivered twice.
    headers, notification = endpoint.posts[1]
    assert endpoint.answer(headers, notification)[0] == 200
    assert len(inbox) == 1


def test_what_ministacks_cloudformation_drops_from_the_topic_its_api_stores(pushed) -> None:
    """verify.NOT_STORED says MiniStack's CloudFormation drops the topic's SignatureVersion and DeliveryStatusLogging
    and its SNS API stores them: set them through the API from the template, and verify reads them back as matches."""
    _, deployment, fan_out, _ = pushed
    topic_id = deployment.logical_id(fan_out.topic)
    before = verify(deployment)
    dropped = {f.property for f in before.not_stored if f.logical_id == topic_id}
    assert {"SignatureVersion", "DeliveryStatusLogging"} <= dropped
    sns = deployment.client("sns")
    topic_arn = deployment.topic_arn(fan_out.topic)
    (logging,) = next(f for f in before.not_stored if f.property == "DeliveryStatusLogging").expected
    attributes = {
        "SignatureVersion": "2",
        "HTTPSuccessFeedbackRoleArn": logging["SuccessFeedbackRoleArn"],
        "HTTPFailureFeedbackRoleArn": logging["FailureFeedbackRoleArn"],
        "HTTPSuccessFeedbackSampleRate": logging["SuccessFeedbackSampleRate"],
    }
    for name, value in attributes.items():
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName=name, AttributeValue=value)
    after = verify(deployment)
    matched = {f.property for f in after.matches if f.logical_id == topic_id}
    assert {"SignatureVersion", "DeliveryStatusLogging"} <= matched
