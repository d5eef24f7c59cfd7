"""Audit-finding detectors (``domain.md`` §7): versioned folds over decoded events.

:func:`default_detectors` is the set the findings service runs; each detector module says
which codes it raises and on what evidence.
"""

from __future__ import annotations

from ledger.findings.accounts import AccountIntegrity
from ledger.findings.awards import AwardConsistency
from ledger.findings.benefits import CapBreached, StandardBelowFloor
from ledger.findings.coverage import PaymentGaps, TerminationWithoutProcedure
from ledger.findings.eligibility import ExclusiveDuplicate
from ledger.findings.exits import ExitWindowOverrun, ShouldExit
from ledger.findings.funds import Diversion, MatchingShortfall
from ledger.findings.independence import Independence, InspectionLeak
from ledger.findings.model import Detector, Finding
from ledger.findings.payments import PaidAfterExit, PaymentIntegrity, UnauthorisedMoney
from ledger.findings.points import PointAdjustments, ProgressInflation
from ledger.findings.procedure import (
    ApprovalWithoutNotice,
    NoticeTooShort,
    RelativeUnfiled,
    SpotCheckNotReproducible,
)
from ledger.findings.runner import DetectorSet
from ledger.findings.scores import LiveScoreMismatch, ScoreMismatch
from ledger.findings.soft import SoftInvariants
from ledger.findings.supervision import EscalationNotApplied

__all__ = [
    "OPTIONAL_DETECTORS",
    "Detector",
    "DetectorSet",
    "Finding",
    "default_detectors",
]


OPTIONAL_DETECTORS = (MatchingShortfall,)
"""Detectors not (yet) in the default set. ``MatchingShortfall`` (AF-FUND-MATCHING, an M
finding): the city demo year (``tools/demo_city.py``) lets two counties' matching money arrive
short and scores it (FUNDING 3 of 3.5) while expecting no finding; whether a scored shortfall
is also a finding is a product decision still open."""


def default_detectors() -> list[Detector]:
    """A fresh instance of every default detector (their folds start empty)."""
    return [
        ExclusiveDuplicate(),
        ShouldExit(),
        ExitWindowOverrun(),
        PaymentGaps(),
        TerminationWithoutProcedure(),
        PaidAfterExit(),
        UnauthorisedMoney(),
        PaymentIntegrity(),
        AccountIntegrity(),
        StandardBelowFloor(),
        CapBreached(),
        Diversion(),
        NoticeTooShort(),
        ApprovalWithoutNotice(),
        RelativeUnfiled(),
        SpotCheckNotReproducible(),
        EscalationNotApplied(),
        ScoreMismatch(),
        LiveScoreMismatch(),
        PointAdjustments(),
        ProgressInflation(),
        AwardConsistency(),
        Independence(),
        InspectionLeak(),
        SoftInvariants(),
    ]
