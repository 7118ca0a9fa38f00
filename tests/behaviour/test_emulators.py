"""The embedded emulators bind 127.0.0.1 on a free port and stop however their block ends."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pytest

from decoupling_constructs.testing.emulators import ministack, moto_server


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("start", [ministack, moto_server], ids=["ministack", "moto"])
def test_emulator_listens_on_loopback_only_and_stops_on_error(start) -> None:
    with pytest.raises(RuntimeError, match="boom"), start() as emulator:
        port = urlparse(emulator.endpoint_url).port
        assert urlparse(emulator.endpoint_url).hostname in ("127.0.0.1", "localhost")
        assert accepts(port)
        listeners = {
            info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET) if info[4]
        } - {"127.0.0.1", "127.0.1.1"}
        for address in listeners:  # the machine's other IPv4 addresses do not reach it
            with socket.socket() as probe:
                probe.settimeout(1)
                assert probe.connect_ex((address, port)) != 0
        raise RuntimeError("boom")
    assert not accepts(port)


def test_a_missing_ministack_interpreter_is_named(monkeypatch, tmp_path) -> None:
    from decoupling_constructs.testing.emulators import ministack_python

    monkeypatch.setenv("MINISTACK_PYTHON", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(FileNotFoundError, match=r"MINISTACK_PYTHON=.*nowhere/python does not exist: run `make setup`"):
        ministack_python()
