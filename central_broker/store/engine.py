"""Open the central store's database from its URL: SQLite (WAL, synchronous=FULL) or PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from madoguchi.errors import ConfigError

__all__ = ["create_store_engine", "sqlite_path", "sqlite_url"]

_logger = logging.getLogger(__name__)

_BUSY_TIMEOUT_MS = 5000


def sqlite_url(path: Path) -> str:
    """The store URL of an SQLite file, e.g. `sqlite:////var/lib/madoguchi/central.db`."""
    return f"sqlite:///{path.resolve()}"


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"store URL {url!r} is not a database URL",
            "use sqlite:////absolute/path/central.db or postgresql://user@host/db",
        ) from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"store URL {url!r} names an unsupported database {parsed.get_backend_name()!r}",
            "use sqlite:////absolute/path/central.db or postgresql://user@host/db",
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what we install
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store URL; None for other databases or in-memory SQLite."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, synchronous=FULL and a busy timeout.

    Raises:
        ConfigError: the URL is not SQLite or PostgreSQL.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)
