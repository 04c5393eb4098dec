"""The command line as a newcomer meets it: `clientcontact serve` on a fresh data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "clientcontact.cli"]
DEMO_LOGIN = {"email": "admin@example.com", "password": "clientcontact-demo"}
PROVIDER_VARIABLES = ("EMAIL_SERVICE", "SMS_SERVICE", "SENDGRID_API_KEY", "TWILIO_ACCOUNT_SID",
                      "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER", "DATABASE_URL", "SECRET_KEY",
                      "PUBLIC_URL", "SEED_DEMO", "TRUSTED_PROXIES", "REDIS_URL")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    env.update(DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=tmp_path, env=clean_env(tmp_path, **extra),
                          capture_output=True, text=True, timeout=120)


class TestConfigurationErrors:
    def test_a_provider_without_its_key_stops_with_one_clear_line(self, tmp_path: Path) -> None:
        result = run(tmp_path, "migrate", EMAIL_SERVICE="sendgrid")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "error: EMAIL_SERVICE=sendgrid needs SENDGRID_API_KEY to be set (see .env.example)")
        assert "Traceback" not in result.stderr + result.stdout

    def test_an_unknown_provider_is_named(self, tmp_path: Path) -> None:
        result = run(tmp_path, "migrate", SMS_SERVICE="carrier-pigeon")
        assert result.returncode == 2
        assert "SMS_SERVICE" in result.stderr and "Traceback" not in result.stderr

    def test_twilio_needs_all_three_variables(self, tmp_path: Path) -> None:
        result = run(tmp_path, "migrate", SMS_SERVICE="twilio", TWILIO_ACCOUNT_SID="AC123",
                     TWILIO_AUTH_TOKEN="x")
        assert result.returncode == 2
        assert "TWILIO_PHONE_NUMBER" in result.stderr


class TestAdminCommands:
    def test_create_admin_then_seed_demo_refuses_a_used_database(self, tmp_path: Path) -> None:
        created = run(tmp_path, "create-admin", "--email", "Owner@Shop.example", "--name",
                      "Olga Owner", "--password", "s3cret-pass", "--account", "Olga's Shop")
        assert created.returncode == 0, created.stderr
        assert "admin owner@shop.example" in created.stdout
        seeded = run(tmp_path, "seed-demo")
        assert "already has accounts" in seeded.stdout

    def test_seed_demo_on_an_empty_database_prints_the_login(self, tmp_path: Path) -> None:
        seeded = run(tmp_path, "seed-demo")
        assert seeded.returncode == 0, seeded.stderr
        assert "admin@example.com" in seeded.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(tmp_path: Path, **extra: str) -> Iterator[tuple[str, Path]]:
    """`clientcontact serve` on a free port, once it answers: its URL and its output's file."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([*CLI, "serve", "--port", str(port)], cwd=tmp_path,
                                   env=clean_env(tmp_path, **extra),
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with serving(tmp_path, WORKER_POLL_SECONDS="0.2") as (base, log):
        yield base, log.read_text()


def test_serve_prints_a_login_that_works_and_delivers_a_reply(served: tuple[str, str]) -> None:
    base, printed = served
    assert "running at http://127.0.0.1:" in printed
    assert "Log in as admin@example.com with password clientcontact-demo" in printed
    client = httpx.Client(base_url=base, timeout=30)
    login = client.post("/api/v1/auth/login", json=DEMO_LOGIN)
    assert login.status_code == 200
    client.headers["X-CSRF-Token"] = login.headers["x-csrf-token"]  # as README's curl does
    assert client.get("/readyz").json()["status"] == "ok"
    conversations = client.get("/api/v1/conversations").json()["conversations"]
    assert {c["inbox"]["channel"] for c in conversations} == {"email", "sms", "whatsapp"}

    conversation = conversations[0]
    reply = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                        json={"text": "Thanks for writing, we are on it."}).json()
    deadline = time.monotonic() + 20
    while client.get(f"/api/v1/messages/{reply['id']}").json()["status"] != "sent":
        assert time.monotonic() < deadline, "the in-process worker did not send the reply"
        time.sleep(0.2)
    [sent] = client.get("/api/v1/dev/outbox").json()
    assert sent["text"] == "Thanks for writing, we are on it."


class TestFirstRun:
    """The demo login is for demos: a real install starts with `create-admin`."""

    def test_a_real_install_starts_without_the_demo_and_says_how_to_begin(
            self, tmp_path: Path) -> None:
        with serving(tmp_path, PUBLIC_URL="https://inbox.shop.example") as (base, log):
            printed = log.read_text()
            login = httpx.post(f"{base}/api/v1/auth/login", json=DEMO_LOGIN)
        assert "clientcontact create-admin" in printed
        assert "clientcontact-demo" not in printed
        assert login.status_code == 401

    def test_real_providers_get_no_demo_either(self, tmp_path: Path) -> None:
        with serving(tmp_path, SMS_SERVICE="twilio", TWILIO_ACCOUNT_SID="AC123",
                     TWILIO_AUTH_TOKEN="x", TWILIO_PHONE_NUMBER="+15005550006") as (base, log):
            login = httpx.post(f"{base}/api/v1/auth/login", json=DEMO_LOGIN)
            assert "clientcontact create-admin" in log.read_text()
        assert login.status_code == 401

    def test_a_demo_login_left_in_a_real_deployment_is_refused_loudly(
            self, tmp_path: Path) -> None:
        assert run(tmp_path, "seed-demo").returncode == 0  # a laptop demo, then put online
        with serving(tmp_path, PUBLIC_URL="https://inbox.shop.example") as (base, log):
            api = httpx.post(f"{base}/api/v1/auth/login", json=DEMO_LOGIN)
            printed = log.read_text()
        assert "SECURITY" in printed and "admin@example.com" in printed
        assert "sam@example.com" in printed
        assert api.status_code == 403
        assert "published password" in api.json()["error"]["message"]

    def test_seed_demo_true_makes_a_deliberate_public_demo(self, tmp_path: Path) -> None:
        with serving(tmp_path, PUBLIC_URL="https://demo.example", SEED_DEMO="true") as (base, log):
            assert "Log in as admin@example.com" in log.read_text()
            assert httpx.post(f"{base}/api/v1/auth/login", json=DEMO_LOGIN).status_code == 200
