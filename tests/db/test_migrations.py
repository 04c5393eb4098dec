"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from clientcontact.db.engine import make_engine
from clientcontact.db.migrate import current_revision, head_revision, upgrade
from clientcontact.db.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_databases")()


def test_models_and_migrations_agree(empty_database: str) -> None:
    engine = make_engine(empty_database)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(create_engine(engine.url)).get_table_names()) == tables
    assert {"conversations", "messages", "jobs", "contact_identities"} <= tables
