"""Evidence bundles: one self-contained JSON file per case, verifiable offline.

``export_case`` writes, for a subject id (person, household, application, enrolment, fund
account, assessee …), every event that touches it plus every event a re-decision of those
events needs (their dependency closures, :mod:`ledger.services.replay`), the whole registry
up to the last of them, one signed checkpoint covering all of them and an RFC 9162 inclusion
proof per event. The format is specified in docs/PROTOCOL.md ("Case evidence bundles").

``verify_bundle`` needs nothing but the file (no database): it checks the checkpoint
signature with the ledger's verifier key, each event's leaf bytes and inclusion proof, the
genesis, registry and stream continuity, every signature with the key and role in force at
the event's position, and re-derives every decision of the case with the business rules,
comparing with the verdicts the exporter recorded. The first problem is named precisely.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ledger.audit.evidence import describe_event, inclusion_problem, open_checkpoint, signer_report
from ledger.audit.redecide import Refold, Verdict
from ledger.domain.catalogue import DEFAULT_CATALOGUE, REGISTRY_STREAM, Catalogue, Kind
from ledger.domain.model import Rules
from ledger.domain.registry import Registry
from ledger.domain.rules import build_rules
from ledger.errors import LedgerError, LedgerStateError
from ledger.integrity.envelope import envelope_from_object, format_recorded_at, leaf_bytes
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.note import NoteError, NoteVerifier, format_verifier_key, parse_verifier_key
from ledger.integrity.signing import b64decode_strict, b64encode
from ledger.services.authority import KeyCache, apply_registry_event
from ledger.services.replay import ReplayService
from ledger.store.records import LogEntry

BUNDLE_FORMAT = "ledger/v1/case-bundle"


# ---------------------------------------------------------------------------- export


def export_case(replay: ReplayService, subject_id: str) -> dict[str, Any]:
    """The bundle of ``subject_id`` as a JSON-able dict (see module docstring)."""
    service = replay.ledger
    case = [replay.entry(e["event_id"]) for e in replay.timeline(subject_id)["events"]]
    chosen: dict[int, LogEntry] = {}
    for entry in case:
        for e in replay.closure(entry):
            chosen[e.index] = e
    last = max(chosen)
    _complete_streams(replay, chosen)
    for e in replay.log.stream_entries(_registry_uuid()):
        if e.index <= last:
            chosen[e.index] = e
    checkpoint = replay._checkpoint(last)
    if checkpoint is None or checkpoint.size <= last:
        raise LedgerStateError(
            "no checkpoint covers the case yet and this process cannot sign one",
            code="NO_CHECKPOINT",
            last_index=last,
        )
    entries = [chosen[i] for i in sorted(chosen)]
    verdicts = _judge_case(replay.rules, entries, {e.index for e in case}, service.catalogue)
    registry = service.registry
    return {
        "format": BUNDLE_FORMAT,
        "case": subject_id,
        "origin": registry.origin,
        "verifier_key": format_verifier_key(
            registry.origin or "", b64decode_strict(registry.ledger_public_key or "")
        ),
        "exported_at": format_recorded_at(datetime.now(UTC)),
        "checkpoint": {"size": checkpoint.size, "note": checkpoint.note},
        "case_event_ids": [e.event_id for e in case],
        "events": [
            {
                "index": e.index,
                "leaf": b64encode(leaf_bytes(e.state, e.index, e.recorded_at)),
                "proof": [b64encode(h) for h in service.inclusion_proof(e.index, checkpoint.size)],
            }
            for e in entries
        ],
        "rule_versions": replay._rule_versions(last + 1),
        "decisions": [v.as_dict() for v in verdicts],
        "projection_state_hashes": _state_hashes(replay, checkpoint.size - 1),
    }


def _registry_uuid() -> Any:
    from ledger.services.ledger import REGISTRY_UUID

    return REGISTRY_UUID


def _complete_streams(replay: ReplayService, chosen: dict[int, LogEntry]) -> None:
    """Every chosen event's stream, from version 1 up to it: continuity is then checkable."""
    latest: dict[tuple[str, str], int] = {}
    for e in chosen.values():
        f = orjson.loads(e.state)
        key = (f["stream_type"], f["stream_id"])
        latest[key] = max(latest.get(key, -1), e.index)
    for (stream_type, stream_id), index in latest.items():
        for e in replay.stream_before(stream_type, stream_id, index + 1):
            chosen[e.index] = e


def _state_hashes(replay: ReplayService, at: int) -> list[dict[str, Any]]:
    if replay.projections is None:
        return []
    out = []
    for name in replay.projections.projections:
        try:
            out.append(
                {
                    "name": name,
                    "as_known_at": at,
                    "state_hash": replay.projections.state_hash(name, at),
                }
            )
        except LedgerError:
            continue
    return out


def _judge_case(
    rules: Rules, entries: Sequence[LogEntry], case: set[int], catalogue: Catalogue
) -> list[Verdict]:
    fold = Refold(rules)
    verdicts = []
    for e in entries:
        fields = orjson.loads(e.state)
        verdict = fold.add(
            e.index, fields, judge=e.index in case and _is_decision(fields, catalogue)
        )
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def _is_decision(fields: Mapping[str, Any], catalogue: Catalogue) -> bool:
    try:
        spec = catalogue.spec(fields["event_type"], int(fields["schema_version"]))
    except LedgerError:
        return False
    return spec.kind is Kind.DECISION and spec.stream_type != REGISTRY_STREAM[0]


# ---------------------------------------------------------------------------- verify


@dataclass
class BundleReport:
    """The outcome of :func:`verify_bundle`: ok, or the problems found (first one first)."""

    case: str | None = None
    events: int = 0
    checkpoint_size: int | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    signers: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, check: str, reason: str, index: int | None = None, **evidence: Any) -> None:
        self.problems.append({"check": check, "index": index, "reason": reason, **evidence})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "case": self.case,
            "events": self.events,
            "checkpoint_size": self.checkpoint_size,
            "first_problem": self.problems[0] if self.problems else None,
            "problems": self.problems,
            "decisions": self.decisions,
            "signers": self.signers,
        }


class _StopError(Exception):
    """A problem after which nothing further can be checked meaningfully."""


def verify_bundle(
    data: bytes,
    *,
    verifier_key: str | None = None,
    rules: Rules | None = None,
    catalogue: Catalogue = DEFAULT_CATALOGUE,
) -> BundleReport:
    """Verify a bundle's bytes completely offline (see module docstring); never raises for a
    damaged bundle: the report says what is wrong."""
    report = BundleReport()
    with contextlib.suppress(_StopError):
        _verify(data, verifier_key, rules or build_rules(), catalogue, report)
    return report


def _verify(
    data: bytes, pinned: str | None, rules: Rules, catalogue: Catalogue, report: BundleReport
) -> None:
    bundle = _load(data, report)
    report.case = str(bundle.get("case"))
    verifier = _verifier(bundle, pinned, report)
    try:
        checkpoint = open_checkpoint(str(bundle["checkpoint"]["note"]), verifier)
    except (NoteError, KeyError, TypeError) as e:
        report.fail(
            "checkpoint", f"the checkpoint signature does not verify with the ledger key: {e}"
        )
        raise _StopError from e
    report.checkpoint_size = checkpoint.size
    events = _decode_events(bundle, checkpoint, report)
    report.events = len(events)
    _check_genesis(events, bundle, report)
    _check_streams(events, report)
    _check_signers(events, catalogue, report)
    _check_decisions(events, bundle, rules, catalogue, report)


def _load(data: bytes, report: BundleReport) -> dict[str, Any]:
    try:
        bundle = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        report.fail("format", f"the bundle is not JSON: {e}")
        raise _StopError from e
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        report.fail("format", f"not a {BUNDLE_FORMAT} file")
        raise _StopError
    return bundle


def _verifier(bundle: Mapping[str, Any], pinned: str | None, report: BundleReport) -> NoteVerifier:
    text = pinned or bundle.get("verifier_key")
    try:
        verifier = parse_verifier_key(str(text))
    except NoteError as e:
        report.fail("verifier_key", f"the verifier key cannot be read: {e}")
        raise _StopError from e
    if pinned is not None and bundle.get("verifier_key") != pinned:
        report.fail("verifier_key", "the bundle's verifier key is not the pinned key")
    return verifier


@dataclass(frozen=True)
class _Event:
    index: int
    recorded_at: str
    fields: dict[str, Any]
    stored: bytes


def _decode_events(
    bundle: Mapping[str, Any], checkpoint: Any, report: BundleReport
) -> list[_Event]:
    out: list[_Event] = []
    previous = -1
    for position, item in enumerate(bundle.get("events") or []):
        index = item.get("index")
        if not isinstance(index, int) or index <= previous:
            report.fail(
                "order",
                f"events are not in increasing log order: entry {position} has index {index} "
                f"after {previous} (reordered or duplicated)",
                index,
            )
            raise _StopError
        previous = index
        leaf = b64decode_strict(str(item.get("leaf")))
        try:
            parsed = orjson.loads(leaf)
            stored = canonicalize_checked(parsed["envelope"])
            recorded_at = str(parsed["recorded_at"])
        except (orjson.JSONDecodeError, KeyError, TypeError, LedgerError) as e:
            report.fail("leaf", f"the leaf bytes are not a v1 leaf: {e}", index)
            raise _StopError from e
        if parsed.get("index") != index or leaf_bytes(stored, index, recorded_at) != leaf:
            report.fail(
                "leaf",
                f"the leaf bytes of entry {position} are not the canonical leaf of log index "
                f"{index} (they say index {parsed.get('index')})",
                index,
            )
            continue
        proof = [b64decode_strict(h) for h in item.get("proof") or []]
        problem = inclusion_problem(stored, index, recorded_at, proof, checkpoint)
        if problem is not None:
            report.fail("inclusion", f"event at log index {index}: {problem}", index)
            continue
        if out and recorded_at < out[-1].recorded_at:
            report.fail("clock", f"recorded_at goes backwards at log index {index}", index)
        out.append(_Event(index, recorded_at, parsed["envelope"], stored))
    if report.problems:
        raise _StopError
    return out


def _check_genesis(
    events: Sequence[_Event], bundle: Mapping[str, Any], report: BundleReport
) -> None:
    if not events or events[0].index != 0 or events[0].fields["event_type"] != "LedgerInitialised":
        report.fail("registry", "the bundle does not start with the genesis event at index 0", 0)
        raise _StopError
    p = events[0].fields["payload"]
    expected = format_verifier_key(p["origin"], b64decode_strict(p["ledger_public_key"]))
    if bundle.get("verifier_key") != expected:
        report.fail(
            "verifier_key", "the verifier key is not the ledger key of the genesis event", 0
        )


def _check_streams(events: Sequence[_Event], report: BundleReport) -> None:
    """Each stream's versions run 1, 2, 3 … within the bundle (nothing left out)."""
    versions: dict[tuple[str, str], int] = {}
    for e in events:
        key = (e.fields["stream_type"], e.fields["stream_id"])
        version = int(e.fields["expected_version"]) + 1
        expected = versions.get(key, 0) + 1
        if version != expected:
            what = "registry event" if key == REGISTRY_STREAM else "event"
            report.fail(
                "stream",
                f"stream {key[0]}/{key[1]} jumps to version {version} at log index {e.index}: "
                f"{what} version {expected} is missing from the bundle",
                e.index,
                missing_version=expected,
            )
        versions[key] = version


def _check_signers(events: Sequence[_Event], catalogue: Catalogue, report: BundleReport) -> None:
    registry, keys = Registry(), KeyCache()
    for e in events:
        env = envelope_from_object(e.fields)
        signer = signer_report(registry, keys, env, e.index, catalogue)
        report.signers.append(signer)
        if signer["signature"] != "verified":
            report.fail(
                "signature",
                f"event {env.event_id} at log index {e.index}: {signer['reason']}",
                e.index,
                code=signer["code"],
            )
        if (env.stream_type, env.stream_id) == REGISTRY_STREAM:
            apply_registry_event(registry, env, e.index)


def _check_decisions(
    events: Sequence[_Event],
    bundle: Mapping[str, Any],
    rules: Rules,
    catalogue: Catalogue,
    report: BundleReport,
) -> None:
    case = set(bundle.get("case_event_ids") or [])
    present = {e.fields["event_id"] for e in events}
    for missing in sorted(case - present):
        report.fail("case", f"case event {missing} is listed but not in the bundle")
    claimed = {d.get("event_id"): d for d in bundle.get("decisions") or []}
    fold = Refold(rules)
    for e in events:
        judge = e.fields["event_id"] in case and _is_decision(e.fields, catalogue)
        verdict = fold.add(e.index, e.fields, judge=judge)
        if verdict is None:
            continue
        derived = verdict.as_dict()
        report.decisions.append(derived)
        said = claimed.get(verdict.event_id)
        if (
            said is None
            or said.get("result") != derived["result"]
            or said.get("code") != derived["code"]
        ):
            report.fail(
                "decision",
                f"re-deriving {verdict.event_type} at log index {e.index} gives "
                f"{derived['result']} ({derived['code']}), the bundle records "
                f"{None if said is None else said.get('result')}",
                e.index,
            )


def describe(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Headlines of a bundle's events (for people reading a bundle)."""
    out = []
    for item in bundle.get("events") or []:
        parsed = orjson.loads(b64decode_strict(item["leaf"]))
        out.append(describe_event(parsed["envelope"], parsed["index"], parsed["recorded_at"]))
    return out
