"""Testing your own stack in moto, in-process (`pip install "decoupling-constructs[testing]"`): run with pytest."""

import aws_cdk as cdk
from moto import mock_aws
from quick_start_app import BillingStack

from decoupling_constructs.testing import deploy_to_moto


def test_an_invoice_that_keeps_failing_reaches_the_dlq() -> None:
    app = cdk.App()
    stack = BillingStack(app, "Billing")
    with mock_aws():
        deployment = deploy_to_moto(stack)  # or a template dict, or endpoint_url= of a moto server
        sqs = deployment.client("sqs")
        url = deployment.queue_url(stack.invoices.queue)  # any L2, L1 or logical id
        dlq_url = deployment.queue_url(stack.invoices.dead_letter_queue)
        sqs.send_message(QueueUrl=url, MessageBody="invoice 1", MessageGroupId="customer-1", MessageDeduplicationId="1")
        for _ in range(5):  # max_receive_count receives, never deleted
            assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]) == 1
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
        (dead,) = sqs.receive_message(QueueUrl=dlq_url)["Messages"]
        assert dead["Body"] == "invoice 1"
