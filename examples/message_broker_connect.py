"""Connecting to a MessageBroker: read the generated credentials from its secret, connect to its connection_url."""

import json

import boto3


def broker_credentials(secret_arn: str) -> tuple[str, str]:
    """The broker user's name and password, from the secret the construct created (`MessageBroker.secret`)."""
    secretsmanager = boto3.client("secretsmanager")
    secret = json.loads(secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"])
    # Connect to the stack output `connection_url`:
    # ActiveMQ (OpenWire/JMS): failover:(ssl://b-…-1.mq.<region>.amazonaws.com:61617,ssl://b-…-2…:61617)
    # (the client reconnects to whichever instance is active); RabbitMQ: amqps://b-….mq.<region>.amazonaws.com:5671
    return secret["username"], secret["password"]
