"""Settings: the one place that reads the environment.

``LEDGER_DATABASE_URL`` chooses the backend:

* ``sqlite:///relative/or/absolute/path.db`` (the embedded default, ``sqlite:///ledger.db``);
* ``postgresql://user[:password]@host[:port]/dbname[?schema=name]``.

``LEDGER_HOME`` is the directory of private keys (created 0700; keys are 0600).
``LEDGER_CHECKPOINT_EVERY`` (events, default 1000) and ``LEDGER_CHECKPOINT_SECONDS`` (default
60) set the checkpoint cadence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_URL = "sqlite:///ledger.db"


class SettingsError(ValueError):
    """A setting has a value the ledger cannot use."""


@dataclass(frozen=True)
class Settings:
    """Validated settings."""

    database_url: str = DEFAULT_URL
    home: Path = Path(".ledger")
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0
    group_commit_max: int = 256
    app_name: str = "Ledger"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``LEDGER_*`` variables; keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "database_url": env.get("LEDGER_DATABASE_URL", DEFAULT_URL),
            "home": Path(env.get("LEDGER_HOME", ".ledger")),
            "checkpoint_every": _int(env, "LEDGER_CHECKPOINT_EVERY", 1000),
            "checkpoint_seconds": float(env.get("LEDGER_CHECKPOINT_SECONDS", "60")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.eventsourcing_env()  # validate the URL now, not at first use
        return settings

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgres``."""
        scheme = urlparse(self.database_url).scheme
        if scheme == "sqlite":
            return "sqlite"
        if scheme in ("postgres", "postgresql"):
            return "postgres"
        msg = f"LEDGER_DATABASE_URL must start with sqlite:/// or postgresql://, got {scheme!r}"
        raise SettingsError(msg)

    def eventsourcing_env(self, *, create_table: bool = True) -> dict[str, str]:
        """The environment dict ``eventsourcing`` expects for this database."""
        url = urlparse(self.database_url)
        env = {"CREATE_TABLE": "y" if create_table else "n"}
        if self.backend == "sqlite":
            path = unquote(url.path[1:] if url.path.startswith("/") else url.path)
            if not path:
                msg = f"no SQLite file in {self.database_url!r} (use sqlite:///path/to/file.db)"
                raise SettingsError(msg)
            env |= {
                "PERSISTENCE_MODULE": "ledger.store.sqlite:LedgerSQLiteFactory",
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
            return env
        query = parse_qs(url.query)
        env |= {
            "PERSISTENCE_MODULE": "ledger.store.postgres:LedgerPostgresFactory",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "20",
        }
        return env

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file (only for the SQLite backend)."""
        return Path(self.eventsourcing_env()["SQLITE_DBNAME"])


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        msg = f"{name} must be an integer, got {raw!r}"
        raise SettingsError(msg) from e
    if value <= 0:
        msg = f"{name} must be positive, got {value}"
        raise SettingsError(msg)
    return value
