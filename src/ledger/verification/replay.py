"""Deep verification (domain.md §8 V8-V11): replay the log through the rules and the read models.

The plain verifier (:mod:`ledger.verification.engine`) proves that the log is the log that
was signed. This pass asks whether what was signed was *allowed*, and whether what was built
from it is *true*:

* V8 — **invariant replay**: every event is decided again by today's code with the state,
  configuration (rule versions) and registry as they were at its log position. An accepted
  event that a hard invariant refuses is a critical finding: a ledger bug or a bypass of the
  append path (for example rows written straight into the database).
* V9 — **projection replay**: every projection is rebuilt from zero in memory; where the
  database holds a stored copy, its state hash at the position it has folded must equal the
  rebuild's hash at the same position.
* V10 — **formula replay**: a V8 refusal whose code is a formula invariant (scores, rankings,
  awards, standard floors) is reported as a formula mismatch: the recorded value is not what
  the formula in force gives for the recorded inputs.
* V11 — **spot-check reproducibility**: every ``CountySpotCheckSampleDrawn`` is re-drawn from
  its ``rng_seed`` with the published algorithm and must give exactly the recorded sample.

Refused events are still folded (they *are* in the log, and every later decision saw them),
so one bad event yields one finding rather than a cascade. Memory grows with the number of
cases and accounts the rules track, not with the length of the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ledger.domain.catalogue import REGISTRY_STREAM
from ledger.domain.model import DomainState, Rules
from ledger.domain.registry import Registry
from ledger.domain.rules import build_rules
from ledger.domain.spot_checks import draw_sample
from ledger.errors import LedgerError
from ledger.projections.base import Projection
from ledger.projections.events import Event
from ledger.projections.sql import Database, projections_path
from ledger.projections.store import POSITIONS, ProjectionStore, default_projections
from ledger.services.decisions import RegistryDirectory, domain_event
from ledger.settings import Settings
from ledger.verification.engine import (
    Damage,
    Finding,
    Report,
    VerifyOptions,
    genesis_key_ids,
    verify,
)
from ledger.verification.records import INDEX, RECORDED_AT, STATE, RawRow
from ledger.verification.sources import Source

FORMULA_CODE_PREFIXES = ("SCO-", "AWD-", "STD-1", "STD-2", "CAP-")
"""Refusal codes that mean "the recorded number is not the formula's number" (V10)."""

SAMPLE_EVENT = "CountySpotCheckSampleDrawn"

AddFinding = Callable[..., None]
"""``add(damage, index, detail, **evidence)``, as :meth:`engine._Run.add` takes it."""


@dataclass(frozen=True)
class StoredHash:
    """A stored projection's state hash at the last log index it has folded."""

    last_index: int
    state_hash: str


@dataclass
class ReplaySummary:
    """What the deep pass did: counts, and the rebuilt projections' hashes at the end."""

    events: int = 0
    decisions_replayed: int = 0
    samples_redrawn: int = 0
    projections_compared: list[str] = field(default_factory=list)
    projection_hashes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "decisions_replayed": self.decisions_replayed,
            "samples_redrawn": self.samples_redrawn,
            "projections_compared": self.projections_compared,
            "projection_hashes": self.projection_hashes,
        }


@dataclass
class _Replay:
    """State of one replay pass."""

    rules: Rules
    add: AddFinding
    projections: Sequence[Projection[Any]]
    stored: Mapping[str, StoredHash]
    state: DomainState = field(default_factory=DomainState)
    registry: Registry = field(default_factory=Registry)
    summary: ReplaySummary = field(default_factory=ReplaySummary)
    folds: dict[str, Any] = field(default_factory=dict)
    due: dict[int, list[str]] = field(default_factory=dict)
    """Log index → stored projections whose hash is compared once that index is folded."""

    def __post_init__(self) -> None:
        self.directory = RegistryDirectory(self.registry)
        self.folds = {p.name: p.empty() for p in self.projections}
        for name, stored in self.stored.items():
            self.due.setdefault(stored.last_index, []).append(name)


def replay_log(
    rows: Iterable[Sequence[RawRow]],
    add: AddFinding,
    *,
    rules: Rules | None = None,
    projections: Sequence[Projection[Any]] | None = None,
    stored: Mapping[str, StoredHash] | None = None,
) -> ReplaySummary:
    """Run V8-V11 over pages of raw rows in log order, reporting through ``add``."""
    run = _Replay(
        rules or build_rules(),
        add,
        default_projections() if projections is None else projections,
        stored or {},
    )
    for page in rows:
        for row in page:
            _replay_row(run, row)
    _finish(run)
    return run.summary


def _replay_row(run: _Replay, row: RawRow) -> None:
    index, envelope = row[INDEX], row[STATE]
    run.summary.events += 1
    if envelope is None:  # a missing row: the plain verifier has already named it
        run.state.position = index + 1
        return
    fields = orjson.loads(envelope)
    event_type = fields.get("event_type", "")
    stream = (fields.get("stream_type", ""), fields.get("stream_id", ""))
    if stream == REGISTRY_STREAM:
        _fold_registry(run, event_type, fields.get("payload") or {}, index)
        run.state.position = index + 1
    elif run.rules.handles(event_type):
        _replay_decision(run, fields, index)
    else:
        run.state.position = index + 1
    event = Event(index, row[RECORDED_AT], event_type, stream[0], stream[1], fields["payload"])
    for projection in run.projections:
        if event_type in projection.types:
            projection.fold(run.folds[projection.name], event)
    for name in run.due.pop(index, ()):
        _compare_stored(run, name, index)


def _fold_registry(run: _Replay, event_type: str, payload: Mapping[str, Any], index: int) -> None:
    """Keep the registry as it was at each position (the rules ask it about organisations)."""
    try:
        run.registry.decide(event_type, payload, index)
        run.registry.apply(event_type, payload, index, derived_key_ids=genesis_key_ids(payload))
    except (LedgerError, KeyError):
        pass  # registry damage is V3's finding (engine._fold_registry), not this pass's


def _replay_decision(run: _Replay, fields: dict[str, Any], index: int) -> None:
    """Decide the event again against the state at its position, then fold it regardless."""
    event = domain_event(fields, index)
    run.summary.decisions_replayed += 1
    sample_ok = _redraw_sample(run, event.event_type, event.payload, index)
    run.state.begin()
    try:
        run.rules.decide(run.state, run.directory, event)
    except LedgerError as refusal:
        if sample_ok:  # a bad sample is already reported as V11, not again as APP-10
            _report_refusal(run, index, event.event_type, event.event_id, refusal)
    finally:
        run.state.rollback()
    run.state.begin()
    try:
        run.rules.apply(run.state, event)
    except Exception as e:  # noqa: BLE001 - a fold that cannot take the event is a finding
        run.state.rollback()
        run.add(
            Damage.INVARIANT_BYPASS,
            index,
            f"{event.event_type} cannot be folded into the state at its position: {e}",
            event_id=event.event_id,
        )
        run.state.position = index + 1
        return
    run.state.commit(index + 1)


def _report_refusal(
    run: _Replay, index: int, event_type: str, event_id: str, refusal: LedgerError
) -> None:
    formula = refusal.code.startswith(FORMULA_CODE_PREFIXES)
    kind = Damage.FORMULA_MISMATCH if formula else Damage.INVARIANT_BYPASS
    check = "V10" if formula else "V8"
    run.add(
        kind,
        index,
        f"{check}: {event_type} was accepted, but the rules in force at its position refuse "
        f"it: {refusal.code}: {refusal.detail}",
        event_id=event_id,
        code=refusal.code,
        refusal=dict(refusal.evidence),
    )


def _redraw_sample(run: _Replay, event_type: str, payload: Mapping[str, Any], index: int) -> bool:
    """V11: the recorded sample is what the seed draws; ``False`` (and a finding) if not."""
    if event_type != SAMPLE_EVENT:
        return True
    run.summary.samples_redrawn += 1
    recorded = list(payload.get("sampled_ids") or [])
    expected: list[str] | None = None
    problem: str | None = None
    try:
        expected = draw_sample(payload["population_ids"], payload["rng_seed"], len(recorded))
    except (KeyError, TypeError, ValueError) as e:
        problem = str(e)
    if expected == recorded:
        return True
    run.add(
        Damage.UNREPRODUCIBLE_SAMPLE,
        index,
        "V11: the spot-check sample is not what its seed draws"
        + (f" ({problem})" if problem else ""),
        batch_id=payload.get("batch_id"),
        rng_seed=payload.get("rng_seed"),
        recorded=recorded,
        redrawn=expected,
    )
    return False


def _compare_stored(run: _Replay, name: str, index: int) -> None:
    projection = next(p for p in run.projections if p.name == name)
    rebuilt = projection.memory_hash(run.folds[name], index)
    stored = run.stored[name].state_hash
    run.summary.projections_compared.append(name)
    if rebuilt != stored:
        run.add(
            Damage.PROJECTION_MISMATCH,
            index,
            f"V9: the stored {name} projection differs from a rebuild from zero "
            f"at log index {index}",
            projection=name,
            stored_state_hash=stored,
            rebuilt_state_hash=rebuilt,
        )


def _finish(run: _Replay) -> None:
    last = run.summary.events - 1
    for projection in run.projections:
        run.summary.projection_hashes[projection.name] = projection.memory_hash(
            run.folds[projection.name], last
        )
    for names in run.due.values():  # stored past the end of the log: it folded phantoms
        for name in names:
            run.add(
                Damage.PROJECTION_MISMATCH,
                run.stored[name].last_index,
                f"V9: the stored {name} projection has folded past the end of the log",
                projection=name,
                stored_last_index=run.stored[name].last_index,
                log_size=run.summary.events,
            )


# ---------------------------------------------------------------------------- stored hashes


def stored_projection_hashes(settings: Settings) -> dict[str, StoredHash]:
    """The stored projections of ``settings``' ledger and their current state hashes.

    Read only: a database without projections (or with none folded yet) gives ``{}``; a
    projection stored by another version of its code is skipped (it is rebuilt on start-up).
    """
    if settings.backend == "sqlite" and not projections_path(settings.sqlite_path).exists():
        return {}
    store = ProjectionStore(Database.for_settings(settings), default_projections())
    try:
        with store.db.read() as tx:
            try:
                rows = tx.fetchall(f"SELECT name, position, version FROM {POSITIONS}")
            except Exception:  # noqa: BLE001 - no projection tables: nothing to compare
                return {}
        out = {}
        for name, position, version in rows:
            projection = store.projections.get(name)
            if projection is None or int(version) != projection.version or int(position) < 1:
                continue
            out[name] = StoredHash(int(position) - 1, store.state_hash(name))
        return out
    finally:
        store.close()


# ---------------------------------------------------------------------------- the whole run


@dataclass
class DeepReport:
    """The plain report with the deep pass's findings merged in, and its summary."""

    report: Report
    replay: ReplaySummary

    def as_dict(self) -> dict[str, Any]:
        return {**self.report.as_dict(), "replay": self.replay.as_dict()}


def verify_deep(
    source: Source,
    options: VerifyOptions | None = None,
    *,
    stored: Mapping[str, StoredHash] | None = None,
    rules: Rules | None = None,
) -> DeepReport:
    """:func:`~ledger.verification.engine.verify`, then V8-V11 over the same source."""
    options = options or VerifyOptions()
    report = verify(source, options)
    kinds_seen: set[Damage] = set()

    def add(damage: Damage, index: int | None, detail: str, **evidence: Any) -> None:
        if damage in kinds_seen and len(report.findings) >= options.max_findings:
            return
        kinds_seen.add(damage)
        report.findings.append(Finding(damage, index, detail, evidence))

    summary = replay_log(source.pages(options.page_size), add, rules=rules, stored=stored)
    return DeepReport(report, summary)
