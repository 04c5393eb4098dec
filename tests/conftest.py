"""Test setup: the real app over HTTP on loopback, on SQLite and on PostgreSQL.

Every test that takes `api` runs once per database engine. PostgreSQL tests need the server in
TEST_POSTGRES_URL (default: the local one, trust auth); where it is missing they are skipped
with the reason, except under CI (the CI variable set), where a skip is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from clientcontact.accounts.login_throttle import MemoryThrottle
from clientcontact.db.models import Base
from tests.harness import Api, AppServer, Personas, make_personas

pytest_plugins = ["tests.fakes.fixtures"]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STRICT = os.environ.get("CI", "").lower() not in ("", "0", "false")
ENGINES = ["sqlite", "postgresql"]


def skip_or_fail(reason: str) -> None:
    """A missing server skips on a laptop, and fails in CI, where everything must run."""
    if STRICT:
        pytest.fail(f"{reason} (CI is set, so this cannot be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis, for what several servers share; without it, a skip saying so."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_server() -> str:
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Makes databases of our own, so parallel runs and leftovers never collide."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"cc_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(
            hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    return request.getfixturevalue("postgres_databases")()


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One migrated app per engine, served by uvicorn on a free loopback port."""
    data_dir: Path = tmp_path_factory.mktemp("data")
    app_server = AppServer.start(database_url=database_url, data_dir=data_dir)
    yield app_server
    app_server.stop()


@pytest.fixture
def personas(server: AppServer) -> Iterator[Personas]:
    yield make_personas(server)
    _empty_every_table(server)


@pytest.fixture
def api(server: AppServer, personas: Personas) -> Api:
    return Api(server, personas)


def _empty_every_table(server: AppServer) -> None:
    engine = server.runtime.engine
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
    outbox = server.runtime.settings.data_dir / "mock-outbox.jsonl"
    outbox.unlink(missing_ok=True)
    # Each story starts with no failed logins behind it, as the tables start empty.
    if isinstance(server.runtime.logins.throttle, MemoryThrottle):
        server.runtime.logins.throttle.clear()
