"""The findings service: run the detectors over the log and raise what is new (W19.2).

:class:`FindingsService` keeps one :class:`~ledger.findings.DetectorSet` per process and
feeds it the log incrementally (each call reads only the entries after its position). New
findings are appended as ``AuditFindingRaised`` events signed by the ledger's detector actor
(a SYSTEM actor in role ``ledger``, with its own key, registered once by
:func:`detector_signer`), then read back like any other entry, so a finding raised by another
process is never raised again.

:func:`measure_detector_pass` times a full-log detector pass against the raw log read and
decode (for the benchmark).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ledger.bootstrap import ADMIN_KEY_FILE
from ledger.client import EnvelopeSigner, actor_onboarding
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.errors import ConcurrencyError, LedgerError, RuleViolation
from ledger.findings import DetectorSet, Finding, default_detectors
from ledger.findings.model import Detector
from ledger.integrity.signing import SigningKey, read_private_key, write_private_key
from ledger.services.ledger import LedgerService
from ledger.settings import Settings

log = logging.getLogger(__name__)

DETECTOR_ACTOR = "findings-detector-1"
DETECTOR_KEY_FILE = "detector.key"
DETECTOR_ROLE = "ledger"
PAGE = 5000


def _root_org(service: LedgerService) -> str:
    roots = [o.org_id for o in service.registry.organisations.values() if o.parent_org_id is None]
    return sorted(roots)[0]


def _admin_signer(settings: Settings, service: LedgerService) -> EnvelopeSigner:
    """The registry administrator whose key is in ``settings.home`` (``ledger init``)."""
    key = read_private_key(settings.home / ADMIN_KEY_FILE)
    record = service.registry.keys.get(key.key_id)
    if record is None:
        msg = f"the key in {settings.home / ADMIN_KEY_FILE} is not registered in this ledger"
        raise FileNotFoundError(msg)
    actor = service.registry.actors[record.actor_id]
    return EnvelopeSigner(key, record.actor_id, REGISTRY_ADMIN, actor.org_id)


def detector_signer(settings: Settings, service: LedgerService) -> EnvelopeSigner:
    """The detector actor's signer; on first use its key is created (0600, in ``home``) and
    the actor, key and role are registered by the administrator."""
    path = settings.home / DETECTOR_KEY_FILE
    root = _root_org(service)
    if path.exists() and DETECTOR_ACTOR in service.registry.actors:
        return EnvelopeSigner(read_private_key(path), DETECTOR_ACTOR, DETECTOR_ROLE, root)
    key = SigningKey.generate()
    admin = _admin_signer(settings, service)
    for event_type, payload in actor_onboarding(
        DETECTOR_ACTOR, root, key, [DETECTOR_ROLE], kind="SYSTEM"
    ):
        service.append(
            admin.sign(
                event_type=event_type,
                stream_type="registry",
                stream_id="registry",
                expected_version=service.registry.version,
                payload=payload,
            )
        )
    write_private_key(path, key)
    return EnvelopeSigner(key, DETECTOR_ACTOR, DETECTOR_ROLE, root)


@dataclass(frozen=True)
class RunResult:
    """What one :meth:`FindingsService.run` did."""

    raised: list[Finding]
    already_raised: int
    position: int


class FindingsService:
    """Detectors over one ledger's log (see module docstring)."""

    def __init__(
        self,
        ledger: LedgerService,
        signer: EnvelopeSigner | None = None,
        detectors: Sequence[Detector] | None = None,
    ) -> None:
        self.ledger = ledger
        self.signer = signer
        self.detectors = DetectorSet(default_detectors() if detectors is None else detectors)

    def catch_up(self) -> int:
        """Observe every log entry not observed yet; the number observed."""
        observed = 0
        while True:
            entries = self.ledger.store.log.entries(self.detectors.position, PAGE)
            if not entries:
                return observed
            observed += self.detectors.feed_entries(entries)
            if len(entries) < PAGE:
                return observed

    def pending(self) -> list[Finding]:
        """Findings the log shows that were not raised yet (after catching up)."""
        self.catch_up()
        return self.detectors.new_findings()

    def run(self) -> RunResult:
        """Catch up, raise every new finding (signed by the detector), and catch up again."""
        if self.signer is None:
            msg = "raising findings needs the detector's signer"
            raise ValueError(msg)
        raised: list[Finding] = []
        skipped = 0
        for found in self.pending():
            try:
                self.ledger.append(self._envelope(found))
                raised.append(found)
            except ConcurrencyError:  # another runner raised this very finding first
                skipped += 1
            except RuleViolation as e:
                if e.code != "AUD-1":  # AUD-1: another runner raised the same irregularity
                    raise
                skipped += 1
        self.catch_up()
        return RunResult(raised, skipped, self.detectors.position)

    def follow(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """:meth:`run` until ``stop`` is set: each round reads only the entries appended since
        the last one, so a long-running follower costs what the log grows by.

        A failing round is logged and retried after ``poll_interval`` (nothing was raised
        twice: the log says what was).
        """
        while not stop.is_set():
            try:
                self.run()
            except (LedgerError, OSError) as e:  # retried; the position says where to go on
                log.warning("findings round failed; retrying: %s", e)
            stop.wait(poll_interval)

    def _envelope(self, found: Finding) -> bytes:
        assert self.signer is not None
        return self.signer.sign(
            event_type="AuditFindingRaised",
            stream_type="audit_finding",
            stream_id=found.finding_id,
            expected_version=0,
            payload=found.payload(),
        )


@dataclass(frozen=True)
class PassTiming:
    """A full-log detector pass against the raw read-and-decode of the same log."""

    entries: int
    read_decode_seconds: float
    detector_pass_seconds: float
    findings: int

    @property
    def ratio(self) -> float:
        """Detector pass time / raw read-and-decode time."""
        return self.detector_pass_seconds / max(self.read_decode_seconds, 1e-9)


def measure_detector_pass(ledger: LedgerService, *, page: int = PAGE) -> PassTiming:
    """Time (1) reading and JSON-decoding every log entry, (2) a fresh full detector pass
    (read, decode the relevant entries, fold, evaluate) over the same log."""
    log = ledger.store.log
    start = time.perf_counter()
    entries, position = 0, 0
    while batch := log.entries(position, page):
        for entry in batch:
            orjson.loads(entry.state)
        entries += len(batch)
        position = batch[-1].index + 1
    read_decode = time.perf_counter() - start

    start = time.perf_counter()
    service = FindingsService(ledger)
    service.catch_up()
    findings = service.detectors.findings()
    detector_pass = time.perf_counter() - start
    return PassTiming(entries, read_decode, detector_pass, len(findings))
