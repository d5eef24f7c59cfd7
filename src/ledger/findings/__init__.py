"""Audit-finding detectors (``domain.md`` §7): versioned folds over decoded events.

:func:`default_detectors` is the set the findings service runs; each detector module says
which codes it raises and on what evidence.
"""

from __future__ import annotations

from ledger.findings.eligibility import ExclusiveDuplicate
from ledger.findings.model import Detector, Finding
from ledger.findings.payments import PaidAfterExit, PaymentIntegrity, UnauthorisedMoney
from ledger.findings.procedure import NoticeTooShort, RelativeUnfiled, SpotCheckNotReproducible
from ledger.findings.runner import DetectorSet
from ledger.findings.scores import ScoreMismatch
from ledger.findings.soft import SoftInvariants
from ledger.findings.supervision import EscalationNotApplied

__all__ = ["Detector", "DetectorSet", "Finding", "default_detectors"]


def default_detectors() -> list[Detector]:
    """A fresh instance of every detector (their folds start empty)."""
    return [
        ExclusiveDuplicate(),
        PaidAfterExit(),
        UnauthorisedMoney(),
        PaymentIntegrity(),
        NoticeTooShort(),
        RelativeUnfiled(),
        SpotCheckNotReproducible(),
        EscalationNotApplied(),
        ScoreMismatch(),
        SoftInvariants(),
    ]
