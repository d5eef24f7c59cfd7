"""Composition root: settings → store → service. Nothing else constructs these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.client import EnvelopeSigner
from ledger.domain.catalogue import REGISTRY_ADMIN, REGISTRY_STREAM
from ledger.errors import LedgerStateError
from ledger.integrity.note import format_verifier_key
from ledger.integrity.signing import SigningKey, read_private_key, write_private_key
from ledger.services.ledger import LedgerService
from ledger.settings import Settings
from ledger.store.application import LedgerStore

LEDGER_KEY_FILE = "ledger.key"
ADMIN_KEY_FILE = "admin.key"
VERIFIER_KEY_FILE = "ledger.vkey"


def open_store(settings: Settings, *, create_tables: bool = True) -> LedgerStore:
    """The event store for ``settings.database_url``."""
    if settings.backend == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return LedgerStore(env=settings.eventsourcing_env(create_table=create_tables))


def open_ledger(settings: Settings, *, signing: bool = True) -> LedgerService:
    """A service over the store; with ``signing`` it loads the ledger key from ``home``."""
    key = read_private_key(settings.home / LEDGER_KEY_FILE) if signing else None
    return LedgerService(
        open_store(settings),
        key,
        checkpoint_every=settings.checkpoint_every,
        group_commit_max=settings.group_commit_max,
    )


@dataclass(frozen=True)
class Initialised:
    """What ``ledger init`` produced (no private material)."""

    origin: str
    verifier_key: str
    admin_key_path: Path
    ledger_key_path: Path


def init_ledger(
    settings: Settings,
    *,
    origin: str,
    root_org_id: str,
    root_org_name: str,
    admin_actor_id: str,
) -> Initialised:
    """Create the keys (0600 files in ``home``) and append the genesis event.

    Raises:
        LedgerStateError: the ledger already has events, or key files already exist.
    """
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    ledger_path, admin_path = home / LEDGER_KEY_FILE, home / ADMIN_KEY_FILE
    store = open_store(settings)
    try:
        if store.log.head().size:
            raise LedgerStateError("this ledger is already initialised", code="REG-1")
    finally:
        store.close()
    for path in (ledger_path, admin_path):
        if path.exists():
            raise LedgerStateError(
                f"{path} already exists; refusing to overwrite a key", code="REG-1", path=str(path)
            )
    ledger_key, admin_key = SigningKey.generate(), SigningKey.generate()
    write_private_key(ledger_path, ledger_key)
    write_private_key(admin_path, admin_key)
    verifier_key = format_verifier_key(origin, ledger_key.public.raw)
    (home / VERIFIER_KEY_FILE).write_text(verifier_key + "\n", encoding="utf-8")
    admin = EnvelopeSigner(admin_key, admin_actor_id, REGISTRY_ADMIN, root_org_id)
    genesis = admin.sign(
        event_type="LedgerInitialised",
        stream_type=REGISTRY_STREAM[0],
        stream_id=REGISTRY_STREAM[1],
        expected_version=0,
        payload={
            "origin": origin,
            "ledger_public_key": ledger_key.public.to_b64(),
            "root_org_id": root_org_id,
            "root_org_name": root_org_name,
            "admin_actor_id": admin_actor_id,
            "admin_public_key": admin_key.public.to_b64(),
        },
    )
    service = LedgerService(
        open_store(settings), ledger_key, checkpoint_every=settings.checkpoint_every
    )
    try:
        service.append(genesis)
        service.issue_checkpoint()
    finally:
        service.close()
    return Initialised(origin, verifier_key, admin_path, ledger_path)
