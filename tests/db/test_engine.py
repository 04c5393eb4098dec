"""DATABASE_URL as operators write it reaches the database unchanged."""

from __future__ import annotations

from clientcontact.db.engine import make_engine


def test_a_plain_postgresql_url_keeps_its_password() -> None:
    """`postgresql://` is served by psycopg 3; the switch must not turn the password into the
    `***` a printed URL shows, or every password-protected database refuses us."""
    engine = make_engine("postgresql://clientcontact:s3cret@db.internal:5432/inbox")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.url.password == "s3cret"
        assert (engine.url.username, engine.url.host, engine.url.database) == (
            "clientcontact", "db.internal", "inbox")
    finally:
        engine.dispose()
