"""The identity registry on both backends: encryption at rest, duplicate detection, erasure
through the ledger, and the ledger still verifying afterwards (domain.md §6.7)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import AuthorizationError
from ledger.identity import (
    DuplicateIdentityError,
    ErasureReason,
    IdentityDecryptionError,
    IdentityKeys,
    IdentityRegistry,
    InvalidIdentityError,
    PersonAlreadyRegisteredError,
    PersonErasedError,
    RecordState,
    UnknownPersonError,
    identity_db_path,
)
from ledger.identity.storage import IdentityStorage
from ledger.settings import Settings
from ledger.store.records import stream_uuid
from ledger.tools.commands import open_source
from ledger.verification.engine import verify
from tests.conftest import LedgerWorld

NAME = "张三丰"
ID_NUMBER = "11010519491231002X"
OTHER_ID = "110105194912310011"  # valid check digit: 1
CARD = "6222020012345678"


@pytest.fixture
def keys(world: LedgerWorld) -> IdentityKeys:
    return IdentityKeys.create(world.settings.home)


@pytest.fixture
def registry(world: LedgerWorld, keys: IdentityKeys) -> Iterator[IdentityRegistry]:
    with IdentityRegistry.open(world.settings, keys) as reg:
        yield reg


# ---------------------------------------------------------------- raw database access


def raw(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL directly against the identity storage (what an attacker with the DB sees)."""
    if settings.backend == "sqlite":
        conn = sqlite3.connect(identity_db_path(settings), isolation_level=None)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    import psycopg

    base, _, _ = settings.database_url.partition("?")
    schema = settings.eventsourcing_env()["POSTGRES_SCHEMA"]
    with psycopg.connect(base, autocommit=True) as pg:
        pg.execute(f'SET search_path TO "{schema}"'.encode())
        cursor = pg.execute(sql.replace("?", "%s").encode(), params)
        return cursor.fetchall() if cursor.description else []


def row_of(settings: Settings, person_id: str) -> dict[str, Any]:
    columns = "identity_hmac, card_hmac, nonce, ciphertext, erased_at, erasure_reason"
    rows = raw(
        settings, f"SELECT {columns} FROM identity_records WHERE person_id = ?", (person_id,)
    )
    assert len(rows) == 1
    values = [bytes(v) if isinstance(v, memoryview) else v for v in rows[0]]
    return dict(zip(columns.split(", "), values, strict=True))


def verify_ledger(settings: Settings) -> None:
    source = open_source(settings, None)  # exactly what `ledger verify` opens
    try:
        report = verify(source)
    finally:
        source.close()
    assert report.ok, report.as_dict()


# ---------------------------------------------------------------- registration and reads


def test_round_trip(registry: IdentityRegistry) -> None:
    ref = registry.register("p-1", NAME, ID_NUMBER, bank_card=CARD, extra={"phone": "13800000000"})
    assert ref.person_id == "p-1"
    assert ref.identity_hmac == registry.identity_hmac(ID_NUMBER)
    assert ref.card_hmac == registry.card_hmac("6222 0200 1234 5678")
    assert len(ref.identity_hmac) == 64 and ref.identity_hmac == ref.identity_hmac.lower()

    identity = registry.lookup("p-1")
    assert identity is not None
    assert (identity.name, identity.id_number, identity.bank_card) == (NAME, ID_NUMBER, CARD)
    assert identity.extra == {"phone": "13800000000"}
    assert identity.ref == ref
    assert NAME not in repr(identity) and ID_NUMBER not in repr(identity)
    assert registry.status("p-1").state is RecordState.REGISTERED
    assert registry.find_by_identity_hmac(ref.identity_hmac) == ref
    assert registry.find_by_card_hmac(registry.card_hmac(CARD)) == [ref]


def test_unknown_person(registry: IdentityRegistry) -> None:
    assert registry.lookup("nobody") is None
    assert registry.status("nobody").state is RecordState.UNKNOWN
    assert registry.find_by_identity_hmac(registry.identity_hmac(ID_NUMBER)) is None


def test_person_without_card(registry: IdentityRegistry) -> None:
    ref = registry.register("p-1", NAME, ID_NUMBER)
    assert ref.card_hmac is None
    identity = registry.lookup("p-1")
    assert identity is not None and identity.bank_card is None and identity.extra is None


def test_registry_survives_reopening(world: LedgerWorld, keys: IdentityKeys) -> None:
    with IdentityRegistry.open(world.settings, keys) as reg:
        reg.register("p-1", NAME, ID_NUMBER)
    with IdentityRegistry.open(world.settings, IdentityKeys.load(world.settings.home)) as reg:
        identity = reg.lookup("p-1")
        assert identity is not None and identity.name == NAME


def test_nothing_readable_at_rest(world: LedgerWorld, registry: IdentityRegistry) -> None:
    registry.register("p-1", NAME, ID_NUMBER, bank_card=CARD)
    rows = raw(world.settings, "SELECT * FROM identity_records")
    dump = repr(rows).encode() + b"".join(
        bytes(v) for row in rows for v in row if isinstance(v, bytes | memoryview)
    )
    for secret in (NAME.encode(), ID_NUMBER.encode(), CARD.encode(), b"1101051949"):
        assert secret not in dump
    if world.settings.backend == "sqlite":
        data = identity_db_path(world.settings).read_bytes()
        for secret in (NAME.encode(), ID_NUMBER.encode(), CARD.encode()):
            assert secret not in data
        assert world.settings.sqlite_path.read_bytes().find(NAME.encode()) == -1


def test_sqlite_identity_file_is_separate_and_private(sqlite_world: LedgerWorld) -> None:
    settings = sqlite_world.settings
    with IdentityRegistry.open(settings, IdentityKeys.create(settings.home)) as reg:
        reg.register("p-1", NAME, ID_NUMBER)
    path = identity_db_path(settings)
    assert path == settings.sqlite_path.with_name("ledger.identity.db")
    assert path.stat().st_mode & 0o077 == 0
    # the key is nowhere in either database
    key = IdentityKeys.load(settings.home)
    for db in (path, settings.sqlite_path):
        assert key.encryption_key not in db.read_bytes()
        assert key.hmac_key not in db.read_bytes()


def test_wrong_key_fails_with_a_typed_error(
    world: LedgerWorld, registry: IdentityRegistry, tmp_path: Path
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    other = IdentityKeys.create(tmp_path / "other-home")
    with (
        IdentityRegistry.open(world.settings, other) as wrong,
        pytest.raises(IdentityDecryptionError) as info,
    ):
        wrong.lookup("p-1")
    assert info.value.code == "ID-DECRYPT"


def test_swapped_ciphertexts_do_not_decrypt(world: LedgerWorld, registry: IdentityRegistry) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    registry.register("p-2", "李四", OTHER_ID)
    one, two = row_of(world.settings, "p-1"), row_of(world.settings, "p-2")
    update = "UPDATE identity_records SET nonce = ?, ciphertext = ? WHERE person_id = ?"
    raw(world.settings, update, (two["nonce"], two["ciphertext"], "p-1"))
    raw(world.settings, update, (one["nonce"], one["ciphertext"], "p-2"))
    for person in ("p-1", "p-2"):
        with pytest.raises(IdentityDecryptionError):
            registry.lookup(person)


# ---------------------------------------------------------------- duplicates and conflicts


@pytest.mark.parametrize(
    "spelling",
    [ID_NUMBER, " 11010519491231002x ", "".join(chr(ord(c) + 0xFEE0) for c in ID_NUMBER)],
)
def test_duplicate_id_number_is_refused(registry: IdentityRegistry, spelling: str) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    with pytest.raises(DuplicateIdentityError) as info:
        registry.register("p-2", "Someone Else", spelling)
    assert info.value.existing_person_id == "p-1"
    assert info.value.code == "ID-DUPLICATE"
    assert ID_NUMBER not in str(info.value.as_dict())
    assert registry.status("p-2").state is RecordState.UNKNOWN


def test_old_15_digit_number_is_a_duplicate_of_its_18_digit_form(
    registry: IdentityRegistry,
) -> None:
    registry.register("p-1", NAME, OTHER_ID)  # 110105 19 491231001 1
    with pytest.raises(DuplicateIdentityError):
        registry.register("p-2", NAME, "110105491231001")


def test_same_registration_twice_is_a_safe_retry(registry: IdentityRegistry) -> None:
    first = registry.register("p-1", NAME, ID_NUMBER, bank_card=CARD)
    assert registry.register("p-1", NAME, " 11010519491231002x", bank_card=CARD) == first
    with pytest.raises(PersonAlreadyRegisteredError):
        registry.register("p-1", "另一个名字", ID_NUMBER, bank_card=CARD)
    with pytest.raises(PersonAlreadyRegisteredError):
        registry.register("p-1", NAME, OTHER_ID)


def test_shared_card_is_allowed_and_findable(registry: IdentityRegistry) -> None:
    a = registry.register("p-1", NAME, ID_NUMBER, bank_card=CARD)
    b = registry.register("p-2", "李四", OTHER_ID, bank_card=CARD)
    assert registry.find_by_card_hmac(registry.card_hmac(CARD)) == [a, b]


@pytest.mark.parametrize(
    ("person_id", "name", "id_number", "card"),
    [
        ("bad id!", NAME, ID_NUMBER, None),
        ("p-1", "  ", ID_NUMBER, None),
        ("p-1", NAME, "110105194912310021", None),
        ("p-1", NAME, ID_NUMBER, "not-a-card"),
    ],
)
def test_invalid_input_is_refused(
    registry: IdentityRegistry, person_id: str, name: str, id_number: str, card: str | None
) -> None:
    with pytest.raises(InvalidIdentityError):
        registry.register(person_id, name, id_number, bank_card=card)


def test_find_by_hmac_refuses_non_hex(registry: IdentityRegistry) -> None:
    with pytest.raises(InvalidIdentityError):
        registry.find_by_identity_hmac("A" * 64)


# ---------------------------------------------------------------- erasure


def person_events(world: LedgerWorld, person_id: str) -> list[str]:
    entries = world.service.store.log.stream_entries(stream_uuid("person", person_id))
    return [e.event_type for e in entries]


def test_erase_records_the_event_then_destroys_the_data(
    world: LedgerWorld, registry: IdentityRegistry
) -> None:
    ref = registry.register("p-1", NAME, ID_NUMBER, bank_card=CARD)
    registry.register("p-2", "李四", OTHER_ID, bank_card=CARD)
    before = row_of(world.settings, "p-1")

    receipt = registry.erase("p-1", "LEGAL_REQUEST", world.service, world.admin)

    assert receipt.reason is ErasureReason.LEGAL_REQUEST
    assert receipt.resumed is False
    assert receipt.receipt.event_id == receipt.event_id
    assert receipt.receipt.index == receipt.log_index
    # the ledger holds the event, signed by the registry admin, and nothing personal
    entry = world.service.store.log.entry_by_event_id(receipt.event_id)
    assert entry is not None and entry.event_type == "PersonIdentityErased"
    assert b'"payload":{"person_id":"p-1","reason":"LEGAL_REQUEST"}' in entry.state
    assert b'"role":"registry_admin"' in entry.state
    # the registry forgot the person but keeps the tombstone
    assert registry.lookup("p-1") is None
    status = registry.status("p-1")
    assert status.state is RecordState.ERASED and status.erased
    assert status.erasure_reason == "LEGAL_REQUEST"
    assert status.erasure_event_id == receipt.event_id
    after = row_of(world.settings, "p-1")
    assert after["nonce"] is None and after["ciphertext"] is None
    assert after["identity_hmac"] is None and after["card_hmac"] is None
    assert after["erased_at"] == receipt.erased_at
    assert registry.find_by_identity_hmac(ref.identity_hmac) is None
    assert [r.person_id for r in registry.find_by_card_hmac(ref.card_hmac or "")] == ["p-2"]
    # the other person is untouched
    other = registry.lookup("p-2")
    assert other is not None and other.name == "李四"

    if world.settings.backend == "sqlite":
        # secure_delete: the destroyed ciphertext and hashes are not left in free space
        data = identity_db_path(world.settings).read_bytes()
        assert before["ciphertext"] not in data
        assert before["identity_hmac"].encode() not in data
        registry.compact()
        data = identity_db_path(world.settings).read_bytes()
        assert before["ciphertext"] not in data
        assert NAME.encode() not in data and ID_NUMBER.encode() not in data
    else:
        registry.compact()  # VACUUM FULL runs on PostgreSQL too

    verify_ledger(world.settings)


def test_erase_is_idempotent(world: LedgerWorld, registry: IdentityRegistry) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    first = registry.erase("p-1", ErasureReason.RETENTION_EXPIRED, world.service, world.admin)
    again = registry.erase("p-1", "ERROR", world.service, world.admin)
    assert again.resumed is True
    assert again.event_id == first.event_id
    assert again.reason is ErasureReason.RETENTION_EXPIRED  # the recorded reason wins
    assert again.erased_at == first.erased_at
    assert person_events(world, "p-1") == ["PersonIdentityErased"]
    verify_ledger(world.settings)


def test_erased_person_id_is_never_reused_but_the_id_number_is_free(
    registry: IdentityRegistry, world: LedgerWorld
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    registry.erase("p-1", "ERROR", world.service, world.admin)
    with pytest.raises(PersonErasedError):
        registry.register("p-1", NAME, ID_NUMBER)
    # registered by mistake under p-1, erased for ERROR: the person can be registered again
    ref = registry.register("p-9", NAME, ID_NUMBER)
    assert registry.find_by_identity_hmac(registry.identity_hmac(ID_NUMBER)) == ref


def test_erasing_an_unknown_person_is_refused(
    registry: IdentityRegistry, world: LedgerWorld
) -> None:
    with pytest.raises(UnknownPersonError):
        registry.erase("ghost", "ERROR", world.service, world.admin)
    assert person_events(world, "ghost") == []


def test_bad_reason_is_refused_before_anything_happens(
    registry: IdentityRegistry, world: LedgerWorld
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    with pytest.raises(InvalidIdentityError):
        registry.erase("p-1", "BORED", world.service, world.admin)
    assert registry.status("p-1").state is RecordState.REGISTERED


def test_refused_event_leaves_the_record_readable(
    registry: IdentityRegistry, world: LedgerWorld
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)
    clerk = world.add_actor("clerk-1", "county-a", "township_intake_clerk")
    with pytest.raises(AuthorizationError):
        registry.erase("p-1", "LEGAL_REQUEST", world.service, clerk)
    assert registry.status("p-1").state is RecordState.REGISTERED
    assert registry.lookup("p-1") is not None
    assert person_events(world, "p-1") == []


def test_crash_after_the_event_is_resumed(
    registry: IdentityRegistry, world: LedgerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)

    def die(self: IdentityStorage, person_id: str, **_: object) -> None:
        raise SystemExit("killed between the append and the destruction")

    with monkeypatch.context() as patch:
        patch.setattr(IdentityStorage, "destroy", die)
        with pytest.raises(SystemExit):
            registry.erase("p-1", "LEGAL_REQUEST", world.service, world.admin)

    # the log says erased; the data is not destroyed yet but is no longer served
    assert person_events(world, "p-1") == ["PersonIdentityErased"]
    assert registry.status("p-1").state is RecordState.ERASURE_PENDING
    assert registry.lookup("p-1") is None
    assert row_of(world.settings, "p-1")["ciphertext"] is not None
    with pytest.raises(PersonErasedError):
        registry.register("p-1", NAME, ID_NUMBER)

    [receipt] = registry.resume_erasures(world.service, world.admin)
    assert receipt.person_id == "p-1" and receipt.resumed
    assert registry.status("p-1").state is RecordState.ERASED
    assert row_of(world.settings, "p-1")["ciphertext"] is None
    assert person_events(world, "p-1") == ["PersonIdentityErased"]  # not appended twice
    assert registry.resume_erasures(world.service, world.admin) == []
    verify_ledger(world.settings)


def test_crash_before_the_event_is_resumed(
    registry: IdentityRegistry, world: LedgerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("p-1", NAME, ID_NUMBER)

    def die(raw: bytes) -> None:
        raise SystemExit("killed before the append")

    with monkeypatch.context() as patch:
        patch.setattr(world.service, "append", die)
        with pytest.raises(SystemExit):
            registry.erase("p-1", "RETENTION_EXPIRED", world.service, world.admin)

    assert person_events(world, "p-1") == []
    assert registry.status("p-1").state is RecordState.ERASURE_PENDING
    [receipt] = registry.resume_erasures(world.service, world.admin)
    assert receipt.reason is ErasureReason.RETENTION_EXPIRED and not receipt.resumed
    assert person_events(world, "p-1") == ["PersonIdentityErased"]
    assert registry.status("p-1").state is RecordState.ERASED
    verify_ledger(world.settings)
