"""The app served for real on loopback, and the people who use it in our stories:
alice (admin) and bob (agent) work at Acme; carol is an admin of another company."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Role
from clientcontact.app import create_app
from clientcontact.channels.base import ChannelKind
from clientcontact.cli import proxy_options
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.inboxes.service import create_inbox, ensure_default_inboxes
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings

PASSWORD = "correct horse battery staple"


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for tests: never read a developer's .env, never start a background worker."""
    values: dict[str, Any] = {
        "secret_key": "test-secret-key", "public_url": "http://127.0.0.1:8000",
        "run_worker_in_process": False, "seed_demo": False, "from_email": "support@acme.test",
        "from_name": "Acme Support",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class AppServer:
    runtime: Runtime
    base_url: str
    _server: uvicorn.Server
    _thread: threading.Thread

    @classmethod
    def start(cls, *, database_url: str, data_dir: Path, **overrides: Any) -> AppServer:
        settings = settings_for_tests(database_url=database_url, data_dir=data_dir, **overrides)
        runtime = build_runtime(settings)
        upgrade(runtime.engine)
        app = create_app(settings, runtime)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                               **proxy_options(settings)))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return cls(runtime, f"http://127.0.0.1:{port}", server, thread)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.runtime.engine.dispose()


@dataclass
class Person:
    actor: Actor
    name: str
    email: str
    http: httpx.Client

    @property
    def agent_id(self) -> int:
        assert self.actor.agent_id is not None
        return self.actor.agent_id


@dataclass
class Personas:
    alice: Person
    bob: Person
    carol: Person


def make_personas(server: AppServer) -> Personas:
    with unit_of_work(server.runtime.factory) as session:
        acme = accounts.create_account(session, "Acme")
        globex = accounts.create_account(session, "Globex")
        people = {}
        for key, name, account, role in (("alice", "Alice Admin", acme, Role.ADMIN),
                                         ("bob", "Bob Agent", acme, Role.AGENT),
                                         ("carol", "Carol Stranger", globex, Role.ADMIN)):
            email = f"{key}@{account.name.lower()}.test"
            agent = accounts.create_agent(session, email=email, name=name, password=PASSWORD)
            accounts.add_member(session, account, agent, role)
            actor = Actor(account_id=account.id, agent_id=agent.id, role=role.value)
            _, token = accounts.create_api_token(session, actor, f"{key}'s test token")
            client = httpx.Client(base_url=server.base_url, timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            people[key] = Person(actor, name, email, client)
        ensure_default_inboxes(session, people["alice"].actor, server.runtime.settings)
        for channel, address in ((ChannelKind.EMAIL, "help@globex.test"),
                                 (ChannelKind.SMS, "+15017122661")):
            create_inbox(session, people["carol"].actor, name=f"Globex {channel}",
                         channel=channel, provider="mock", address=address)
    return Personas(**people)


def cookie_login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log in to the API with the session cookie, as a script or single-page app does: keep
    the CSRF token it returns and send it with every later request."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    if response.status_code == 200:
        client.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    return response


class Api:
    """What a test needs besides HTTP: the worker, and a database session for setup."""

    def __init__(self, server: AppServer, personas: Personas) -> None:
        self.server = server
        self.people = personas
        self.alice, self.bob, self.carol = personas.alice, personas.bob, personas.carol

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, timeout=30)

    def run_worker(self) -> None:
        """Work off every due job, as the worker process would."""
        self.server.runtime.runner.drain()

    def session(self) -> Any:
        return unit_of_work(self.server.runtime.factory)

    @property
    def settings(self) -> Settings:
        return self.server.runtime.settings
