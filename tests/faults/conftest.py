"""A moto server and the fault-injecting proxy in front of it, both on 127.0.0.1, for the whole module.

``direct`` clients talk to moto (set-up and checks); ``proxied`` clients go through the proxy with botocore's
standard retry mode (3 attempts) and a 1 s read timeout, which the proxy's ``delay`` fault (1.5 s) passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.faults.proxy import FaultProxy

REGION = "us-east-1"
READ_TIMEOUT = 1.0
DELAY = 1.5


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[tuple[str, int]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield host, int(port)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxy(moto_endpoint: tuple[str, int]) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(moto_endpoint, delay=DELAY)
    try:
        yield fault_proxy
    finally:
        fault_proxy.close()


def _client(service: str, endpoint: str, config: Config | None = None) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


@pytest.fixture(scope="module")
def direct(moto_endpoint: tuple[str, int]) -> Callable[[str], Any]:
    host, port = moto_endpoint
    return lambda service: _client(service, f"http://{host}:{port}")


@pytest.fixture(scope="module")
def proxied(proxy: FaultProxy) -> Callable[[str], Any]:
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        read_timeout=READ_TIMEOUT,
        connect_timeout=1,
        max_pool_connections=30,
    )
    return lambda service: _client(service, proxy.endpoint, config)
