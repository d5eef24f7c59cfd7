"""W19: audit findings raised by the detectors and disposed of by auditors (``domain.md``
§4.19, §7).

Hard rules (codes of this module; §6.4 has no audit rows):

* ``AUD-1``: a finding is raised once. Its id is new, its stream is its id, and no earlier
  finding has the same (code, subjects, detector, detector version): re-running a detector
  over the same log must not raise the same irregularity again.
* ``AUD-2``: a disposition names a finding that was raised (on that finding's stream), and
  does not repeat the finding's current disposition.
* ``AUD-3``: dismissing a finding (FALSE_POSITIVE) needs a reason; a referral
  (REFERRED_TO_DISCIPLINE) names the body it is referred to.

``LegacyRecordImported`` and ``ExternalDisbursementObserved`` are facts: never refused, and
not folded here (the detectors read them from the log).

Tables: ``audit.findings`` (finding id → :class:`FindingRecord`), ``audit.finding_keys``
(dedup key → finding id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ledger.domain.model import Directory, DomainEvent, DomainState, Rules, Table, require

FINDINGS = "audit.findings"
FINDING_KEYS = "audit.finding_keys"
OPEN = "OPEN"

FindingKey = tuple[str, tuple[str, ...], str, int]
"""(code, sorted subject refs, detector, detector version)."""


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A raised finding and its latest disposition (``OPEN`` until disposed)."""

    finding_id: str
    code: str
    severity: str
    admin_unit_id: str | None
    raised_event_id: str
    status: str = OPEN
    disposed_event_id: str | None = None


def finding_key(code: str, subjects: Iterable[str], detector: str, version: int) -> FindingKey:
    """What makes two findings the same irregularity (AUD-1)."""
    return (code, tuple(sorted(subjects)), detector, version)


def _findings(state: DomainState) -> Table[str, FindingRecord]:
    return state.table(FINDINGS)


def _keys(state: DomainState) -> Table[FindingKey, str]:
    return state.table(FINDING_KEYS)


def finding(state: DomainState, finding_id: str) -> FindingRecord | None:
    """The finding ``finding_id`` as raised and disposed so far, if it was raised."""
    return _findings(state).get(finding_id)


def _key_of(event: DomainEvent) -> FindingKey:
    p = event.payload
    return finding_key(p["code"], p["subject_refs"], p["detector"], p["detector_version"])


def decide_raised(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """AUD-1: a new finding id on its own stream, and not a second raising of the same one."""
    finding_id = event.payload["finding_id"]
    require(
        event.stream_id == finding_id,
        "AUD-1",
        f"finding {finding_id} must be raised on its own stream, not {event.stream_id}",
        finding_id=finding_id,
        stream_id=event.stream_id,
    )
    require(
        finding(state, finding_id) is None,
        "AUD-1",
        f"finding {finding_id} was already raised",
        finding_id=finding_id,
    )
    earlier = _keys(state).get(_key_of(event))
    require(
        earlier is None,
        "AUD-1",
        f"{event.payload['code']} on {', '.join(event.payload['subject_refs'])} was already "
        f"raised by {event.payload['detector']} v{event.payload['detector_version']} "
        f"as finding {earlier}",
        finding_id=finding_id,
        earlier_finding_id=earlier,
    )


def apply_raised(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _findings(state).put(
        p["finding_id"],
        FindingRecord(
            finding_id=p["finding_id"],
            code=p["code"],
            severity=p["severity"],
            admin_unit_id=p["admin_unit_id"],
            raised_event_id=event.event_id,
        ),
    )
    _keys(state).put(_key_of(event), p["finding_id"])


def decide_disposed(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """AUD-2 (an existing finding, a new disposition) and AUD-3 (reason, referral body)."""
    p = event.payload
    finding_id = p["finding_id"]
    found = finding(state, finding_id)
    require(
        found is not None and event.stream_id == finding_id,
        "AUD-2",
        f"there is no finding {finding_id} to dispose of on stream {event.stream_id}",
        finding_id=finding_id,
        stream_id=event.stream_id,
    )
    assert found is not None
    require(
        found.status != p["disposition"],
        "AUD-2",
        f"finding {finding_id} is already {found.status}",
        finding_id=finding_id,
        status=found.status,
    )
    require(
        p["disposition"] != "FALSE_POSITIVE" or bool(p["reason"]),
        "AUD-3",
        f"dismissing finding {finding_id} as a false positive needs a reason",
        finding_id=finding_id,
    )
    require(
        p["disposition"] != "REFERRED_TO_DISCIPLINE" or p["referred_to_org_id"] is not None,
        "AUD-3",
        f"referring finding {finding_id} needs the body it is referred to (referred_to_org_id)",
        finding_id=finding_id,
    )


def apply_disposed(state: DomainState, event: DomainEvent) -> None:
    found = finding(state, event.payload["finding_id"])
    if found is None:  # refused upstream; nothing to fold
        return
    _findings(state).put(
        found.finding_id,
        replace(found, status=event.payload["disposition"], disposed_event_id=event.event_id),
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("AuditFindingRaised", apply_raised, decide_raised)
    rules.register("AuditFindingDisposed", apply_disposed, decide_disposed)
