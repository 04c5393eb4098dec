"""Pytest fixtures for the provider fakes: every one listens on 127.0.0.1 only.

Each fake fixture also takes `loopback_only`, which refuses any connection that would leave the
machine, empties proxy variables and points the AWS SDK at nothing real, so a test that forgets
an endpoint fails loudly instead of reaching a provider.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .certificates import LoopbackCertificate
from .certificates import loopback_certificate as make_loopback_certificate
from .sendgrid_api import FakeSendGrid
from .ses_api import FakeSesApi, MotoSes
from .smtp_server import FakeSmtp
from .twilio_api import FakeTwilio

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    # boto3: fixed fake credentials, no shared config, no instance metadata lookups.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"tests stay on loopback; refused {address[0]}")
        return real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host if isinstance(host, str) else host.decode()):
            raise socket.gaierror(socket.EAI_NONAME, f"tests stay on loopback; no DNS for {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def twilio_api(loopback_only: None) -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def sendgrid_api(loopback_only: None) -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[MotoSes]:
    server = MotoSes().start()
    yield server
    server.stop()


@pytest.fixture
def moto_ses(_moto_server: MotoSes, loopback_only: None) -> MotoSes:
    """Moto's SES in server mode, emptied, with the example.com domain verified for sending."""
    _moto_server.reset(verified_domain="example.com")
    return _moto_server


@pytest.fixture
def ses_api(loopback_only: None) -> Iterator[FakeSesApi]:
    """Scriptable SES v2 answers moto cannot give: GetAccount, throttling, slow replies."""
    fake = FakeSesApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def smtp_server(loopback_only: None) -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server_with_auth(loopback_only: None) -> Iterator[FakeSmtp]:
    """Demands AUTH (over plain text, as a test convenience) with user `agent`, `s3cret`."""
    server = FakeSmtp(credentials=("agent", "s3cret")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def loopback_certificate(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificate:
    return make_loopback_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["starttls", "tls"])
def smtp_server_with_tls(request: pytest.FixtureRequest, loopback_only: None,
                         loopback_certificate: LoopbackCertificate) -> Iterator[FakeSmtp]:
    """STARTTLS (required before MAIL) on one run, implicit TLS on the other; AUTH as above.
    `server.security` says which; `server.client_ssl_context` trusts its certificate."""
    server = FakeSmtp(credentials=("agent", "s3cret"), security=request.param,
                      certificate=loopback_certificate).start()
    yield server
    server.stop()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"
