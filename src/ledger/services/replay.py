"""Decision replay and case timelines (domain.md §4.19, §6.5; DESIGN.md §7).

``replay(event_id)`` answers an auditor's "show me how this decision was taken":

* the decision, its causation chain (``causation_id`` links) and the events it cites
  (``standard_ref``, ``decision_event_id`` …);
* each of those events' signer, verified with the key the registry held **at that
  position**, with role and organisation;
* the rule versions in force (every CONFIG event recorded before the decision);
* the roster and fund-ledger rows the decision concerns, as known at position - 1, with the
  projections' state hashes (when a projection store is attached);
* the re-decision: the business rules (``build_rules()``) run again on a state rebuilt from
  the decision's **dependency closure** only — match, or mismatch with the refusal's code
  and evidence — and the stated numbers re-derived (see :mod:`ledger.audit.redecide`);
* an inclusion proof of every shown event against the latest checkpoint, verified here.

The dependency closure (cost ∝ the case, not the log; see :meth:`ReplayService.closure`):
the registry stream and every CONFIG event before the decision; the decision's own stream;
every event touching a subject the decision or its stream cites (via the case index,
organisations excluded); the whole streams (before the decision) of those events; and the
events cited by id. Should the rules refuse on the closure (or fail to fold it), the
decision is judged again on the full log prefix, so a *mismatch* is never an artefact of a
too-small closure; the report names the basis used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from ledger.audit.evidence import describe_event, inclusion_problem, signer_report
from ledger.audit.redecide import Refold, Verdict
from ledger.audit.refs import STREAM, event_refs, subject_refs
from ledger.domain.catalogue import REGISTRY_STREAM
from ledger.domain.model import Rules
from ledger.domain.registry import Registry
from ledger.domain.rules import build_rules
from ledger.errors import LedgerError, LedgerStateError
from ledger.integrity.envelope import envelope_from_object
from ledger.integrity.signing import b64encode
from ledger.projections.case_index import CONFIG_SUBJECT, CaseIndex
from ledger.projections.store import ProjectionStore
from ledger.services.authority import KeyCache, apply_registry_event
from ledger.services.ledger import REGISTRY_UUID, LedgerService
from ledger.store.records import LogEntry, StoredCheckpoint, stream_uuid

_PAGE = 5000
MAX_CHAIN = 100
"""Causation links followed at most (a cycle cannot occur, but a bound costs nothing)."""


class NotFoundError(LedgerStateError):
    """No event with that id, or no event touches that subject (HTTP 404)."""


class ReplayService:
    """Replays decisions and lists timelines of one ledger (see module docstring)."""

    def __init__(
        self,
        ledger: LedgerService,
        index: CaseIndex,
        projections: ProjectionStore | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.ledger = ledger
        self.index = index
        self.projections = projections
        self.rules = rules or build_rules()

    # ------------------------------------------------------------------ reading

    @property
    def log(self) -> Any:
        return self.ledger.store.log

    def entry(self, event_id: str) -> LogEntry:
        """The log entry of ``event_id`` (404 if unknown)."""
        entry = self.log.entry_by_event_id(event_id)
        if entry is None:
            raise NotFoundError(
                f"no event with id {event_id} is recorded", code="NOT_FOUND", event_id=event_id
            )
        return entry  # type: ignore[no-any-return]

    def entries_at(self, positions: Iterable[int]) -> list[LogEntry]:
        """Entries at ``positions``, in log order."""
        return self.log.entries_at(list(positions))  # type: ignore[no-any-return]

    def stream_before(self, stream_type: str, stream_id: str, before: int) -> list[LogEntry]:
        """A stream's entries recorded before log index ``before``."""
        entries = self.log.stream_entries(stream_uuid(stream_type, stream_id))
        return [e for e in entries if e.index < before]

    # ------------------------------------------------------------------ timeline

    def timeline(self, subject_id: str) -> dict[str, Any]:
        """Every event touching ``subject_id`` in log order, with actor, role and org."""
        self.index.catch_up(self.log)
        touches = self.index.touches(subject_id)
        if not touches:
            raise NotFoundError(
                f"no recorded event touches subject {subject_id}",
                code="NOT_FOUND",
                subject_id=subject_id,
            )
        relations: dict[int, list[str]] = {}
        for t in touches:
            relations.setdefault(t.log_index, []).append(t.relation)
        events = []
        for entry in self.entries_at(relations):
            fields = orjson.loads(entry.state)
            events.append(
                describe_event(fields, entry.index, entry.recorded_at)
                | {"relations": relations[entry.index]}
            )
        return {"subject_id": subject_id, "count": len(events), "events": events}

    # ------------------------------------------------------------------ closure

    def closure(self, target: LogEntry) -> list[LogEntry]:
        """The events a re-decision of ``target`` needs (see module docstring), in log order,
        ending with ``target`` itself."""
        self.index.catch_up(self.log)
        before = target.index
        fields = orjson.loads(target.state)
        own = self.stream_before(fields["stream_type"], fields["stream_id"], before)
        chosen: dict[int, LogEntry] = {e.index: e for e in own}
        seeds: dict[str, None] = {}
        for f in [fields, *(orjson.loads(e.state) for e in own)]:
            for ref in subject_refs(f):
                if not ref.is_hub:
                    seeds[ref.subject_id] = None
        touching = self.entries_at(self.index.positions(list(seeds), before))
        streams = {(_stream(e)) for e in touching}
        for stream_type, stream_id in streams:
            for e in self.stream_before(stream_type, stream_id, before):
                chosen[e.index] = e
        self._add_owned_streams(chosen, before)
        for event_id in event_refs(fields):
            cited = self.log.entry_by_event_id(event_id)
            if cited is not None and cited.index < before:
                chosen[cited.index] = cited
        context = self.index.positions([CONFIG_SUBJECT], before)
        for e in self.entries_at(set(context) - set(chosen)):
            chosen[e.index] = e
        for e in self.log.stream_entries(REGISTRY_UUID):
            if e.index < before:
                chosen[e.index] = e
        return [*(chosen[i] for i in sorted(chosen)), target]

    def _add_owned_streams(self, chosen: dict[int, LogEntry], before: int) -> None:
        """Add, transitively, the streams whose ids the chosen events cite (an enrolment
        cites its application, a batch its fund account): the aggregates their rules read."""
        visited: set[str] = set()
        fresh = list(chosen.values())
        while fresh:
            wanted: dict[str, None] = {}
            for e in fresh:
                for ref in subject_refs(orjson.loads(e.state)):
                    if not ref.is_hub and ref.subject_id not in visited:
                        wanted[ref.subject_id] = None
            visited |= set(wanted)
            found = self.index.positions(list(wanted), before, relation=STREAM) - set(chosen)
            fresh = self.entries_at(found)
            for e in fresh:
                chosen[e.index] = e

    def redecide(self, target: LogEntry) -> tuple[Verdict, dict[str, Any]]:
        """Re-decide ``target`` on its closure, confirming a refusal on the full prefix."""
        closure = self.closure(target)
        verdict, fold = _judge_last(self.rules, closure)
        basis: dict[str, Any] = {"basis": "closure", "closure_events": len(closure) - 1}
        if verdict.ok and not fold.apply_errors:
            return verdict, basis
        full, fold = _judge_last(self.rules, [*self._prefix(target.index), target])
        basis = {
            "basis": "full_prefix",
            "closure_events": len(closure) - 1,
            "prefix_events": target.index,
            "why": "the closure did not reproduce the acceptance; judged again on the whole log "
            "before the decision",
        }
        if fold.apply_errors:
            basis["apply_errors"] = fold.apply_errors[:10]
        return full, basis

    def _prefix(self, before: int) -> list[LogEntry]:
        out: list[LogEntry] = []
        while len(out) < before:
            page = self.log.entries(len(out), min(_PAGE, before - len(out)))
            if not page:
                break
            out += page
        return out

    # ------------------------------------------------------------------ replay

    def replay(self, event_id: str) -> dict[str, Any]:
        """The full replay report of ``event_id`` (see module docstring)."""
        target = self.entry(event_id)
        fields = orjson.loads(target.state)
        chain = self._causation_chain(fields)
        cited = self._cited(fields, {e.index for e in chain})
        shown = sorted({target.index: target, **{e.index: e for e in [*chain, *cited]}}.items())
        verdict, basis = self.redecide(target)
        checkpoint = self._checkpoint(target.index)
        return {
            "decision": describe_event(fields, target.index, target.recorded_at)
            | {"payload": fields["payload"], "correlation_id": fields.get("correlation_id")},
            "causation_chain": [_headline(e) for e in chain],
            "cited_events": [_headline(e) for e in cited],
            "signers": self._signers([e for _, e in shown]),
            "rule_versions": self._rule_versions(target.index),
            "projections": self._projections(target.index, fields),
            "recomputation": verdict.as_dict() | basis,
            "proofs": self._proofs([e for _, e in shown], checkpoint),
        }

    def _causation_chain(self, fields: Mapping[str, Any]) -> list[LogEntry]:
        chain: list[LogEntry] = []
        cause = fields.get("causation_id")
        while isinstance(cause, str) and len(chain) < MAX_CHAIN:
            entry = self.log.entry_by_event_id(cause)
            if entry is None:
                break
            chain.append(entry)
            cause = orjson.loads(entry.state).get("causation_id")
        return chain

    def _cited(self, fields: Mapping[str, Any], skip: set[int]) -> list[LogEntry]:
        found = []
        for event_id in event_refs(fields):
            entry = self.log.entry_by_event_id(event_id)
            if entry is not None and entry.index not in skip:
                found.append(entry)
        return found

    def _signers(self, entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
        """Each entry's signer checked with the registry as of its position."""
        registry, keys = Registry(), KeyCache()
        registry_entries = iter(self.log.stream_entries(REGISTRY_UUID))
        pending = next(registry_entries, None)
        out = []
        for entry in sorted(entries, key=lambda e: e.index):
            while pending is not None and pending.index < entry.index:
                apply_registry_event(
                    registry, envelope_from_object(orjson.loads(pending.state)), pending.index
                )
                pending = next(registry_entries, None)
            env = envelope_from_object(orjson.loads(entry.state))
            out.append(signer_report(registry, keys, env, entry.index, self.ledger.catalogue))
        return out

    def _rule_versions(self, before: int) -> list[dict[str, Any]]:
        out = []
        for entry in self.entries_at(self.index.positions([CONFIG_SUBJECT], before)):
            f = orjson.loads(entry.state)
            if is_registry(f):
                continue  # keys and grants are shown with the signers
            out.append(
                {
                    "index": entry.index,
                    "event_id": f["event_id"],
                    "event_type": f["event_type"],
                    "schema_version": f["schema_version"],
                    "stream": f"{f['stream_type']}/{f['stream_id']}",
                    "effective_from": f["payload"].get("effective_from"),
                }
            )
        return out

    def _projections(self, index: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Roster and fund rows cited by the decision or its stream, as known at index - 1."""
        if self.projections is None:
            return {"available": False, "reason": "no projection store attached"}
        at = index - 1
        ids = {r.subject_id: r.relation for r in subject_refs(fields)}
        for e in self.stream_before(fields["stream_type"], fields["stream_id"], index)[:1]:
            ids |= {r.subject_id: r.relation for r in subject_refs(orjson.loads(e.state))}
        enrolments = sorted(s for s, rel in ids.items() if rel == "enrolment_id")
        if fields["stream_type"] == "enrolment":
            enrolments = sorted({*enrolments, fields["stream_id"]})
        accounts = sorted(s for s, rel in ids.items() if rel == "fund_account_id")
        try:
            shown: dict[str, Any] = {}
            scheme_id = fields["payload"].get("scheme_id")
            if isinstance(scheme_id, str):
                shown["score_table"] = self._score_rows(scheme_id, fields["payload"], at)
            return shown | {
                "as_known_at": at,
                "roster": {
                    "state_hash": self.projections.state_hash("roster", at),
                    "rows": [r for e in enrolments if (r := self._roster_row(e, at))],
                },
                "fund_ledger": {
                    "state_hash": self.projections.state_hash("fund_ledger", at),
                    "rows": [
                        dataclasses.asdict(row)
                        for a in accounts
                        for row in self.projections.fund_ledger(a, as_known_at_position=at)
                    ],
                },
            }
        except LedgerError as e:
            return {"available": False, "reason": e.detail}

    def _score_rows(self, scheme_id: str, payload: Mapping[str, Any], at: int) -> dict[str, Any]:
        """The scheme's score table (one assessee's row when the decision names one)."""
        from ledger.projections.scores import score_table

        assert self.projections is not None
        named = payload.get("assessee")
        assessee = named if isinstance(named, str) else None
        page = score_table(
            self.projections,
            scheme_id=scheme_id,
            assessee=assessee,
            as_known_at_position=at,
            limit=1000,
        )
        return {"state_hash": page.state_hash, "rows": list(page.rows)}

    def _roster_row(self, enrolment_id: str, at: int) -> dict[str, Any] | None:
        from ledger.projections.roster import ROSTER, RosterRow

        assert self.projections is not None
        with self.projections.db.read() as tx:
            rows = tx.fetchall(
                f"SELECT {ROSTER.select_sql()}, known_from, known_to FROM {ROSTER.name} "
                "WHERE enrolment_id = ? AND known_from <= ? ORDER BY known_from DESC LIMIT 1",
                [enrolment_id, at],
            )
        if not rows:
            return None
        return dataclasses.asdict(RosterRow.from_values(rows[0]))

    def _checkpoint(self, index: int) -> StoredCheckpoint | None:
        """The latest checkpoint, issuing one first if none covers ``index`` yet."""
        latest = self.log.latest_checkpoint()
        if latest is None or latest.size <= index:
            try:
                self.ledger.issue_checkpoint()
            except LedgerError:
                return latest if latest is not None and latest.size > index else None
            latest = self.log.latest_checkpoint()
        return latest  # type: ignore[no-any-return]

    def _proofs(
        self, entries: Sequence[LogEntry], checkpoint: StoredCheckpoint | None
    ) -> dict[str, Any]:
        if checkpoint is None:
            return {"checkpoint": None, "reason": "no checkpoint covers this event yet"}
        from ledger.audit.evidence import open_checkpoint
        from ledger.integrity.note import NoteError, NoteVerifier
        from ledger.integrity.signing import b64decode_strict

        registry = self.ledger.registry
        verifier = NoteVerifier.from_public_key(
            registry.origin or "", b64decode_strict(registry.ledger_public_key or "")
        )
        try:
            signed = open_checkpoint(checkpoint.note, verifier)
            note_ok: str | None = None
        except NoteError as e:
            signed, note_ok = None, f"the checkpoint signature does not verify: {e}"
        out = []
        for entry in entries:
            proof = self.ledger.inclusion_proof(entry.index, checkpoint.size)
            problem = note_ok or (
                inclusion_problem(
                    entry.state,
                    entry.index,
                    entry.recorded_at,
                    proof,
                    signed,
                    stored_leaf_hash=entry.leaf_hash,
                )
                if signed is not None
                else "no verified checkpoint"
            )
            out.append(
                {
                    "index": entry.index,
                    "event_id": entry.event_id,
                    "leaf_hash": b64encode(entry.leaf_hash),
                    "proof": [b64encode(h) for h in proof],
                    "verified": problem is None,
                    "problem": problem,
                }
            )
        return {
            "checkpoint": {"size": checkpoint.size, "note": checkpoint.note},
            "checkpoint_signature": "verified" if note_ok is None else note_ok,
            "inclusion": out,
        }


def _stream(entry: LogEntry) -> tuple[str, str]:
    f = orjson.loads(entry.state)
    return str(f["stream_type"]), str(f["stream_id"])


def _headline(entry: LogEntry) -> dict[str, Any]:
    return describe_event(orjson.loads(entry.state), entry.index, entry.recorded_at)


def _judge_last(rules: Rules, entries: Sequence[LogEntry]) -> tuple[Verdict, Refold]:
    """Fold ``entries`` and judge the last one."""
    fold = Refold(rules)
    verdict: Verdict | None = None
    for n, entry in enumerate(entries):
        fields = orjson.loads(entry.state)
        verdict = fold.add(entry.index, fields, judge=n == len(entries) - 1) or verdict
    if verdict is None:  # the target is a registry event: the registry rules judged it
        last = entries[-1]
        verdict = Verdict(str(last.event_id), last.index, last.event_type, "match")
    return verdict, fold


def is_registry(fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` is a registry event."""
    return (fields["stream_type"], fields["stream_id"]) == REGISTRY_STREAM
