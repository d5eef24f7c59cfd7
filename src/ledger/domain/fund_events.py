"""Payload schemas of the rest of the fund workflow W8 (matching funds, carry-over, recovery).

``domain.md`` §4.8 steps 8.3, 8.8 and 8.9, §6.3 (Funds). Stream types and ids:

==================  ==========================  ==========================================
stream_type         stream_id                   events
==================  ==========================  ==========================================
``matching_fund``   admin unit id               ``MatchingFundCommitted``
``fund_account``    fund account id             ``FundCarriedOver`` (on the *source*
                                                account), ``FundRecovered``
==================  ==========================  ==========================================

A matching-fund commitment is a promise of a government, not money on an account, so it
lives on the committing admin unit's own ``matching_fund`` stream rather than on a fund
account; what is committed is compared with what arrives (``FundReceived`` of an
appropriation with ``is_matching_fund``) by :mod:`ledger.domain.funds_matching`.
"""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.fields import IDENTIFIER, integer, one_of, text
from ledger.domain.programme_events import PROGRAMME_CODES

_ID = IDENTIFIER
_FINANCE = frozenset({"finance_officer"})
_GOVERNMENT = frozenset({"government_approver"})

FUND_EXTRA_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "MatchingFundCommitted",
        1,
        "matching_fund",
        Kind.DECISION,
        _GOVERNMENT,
        {
            "commitment_id": _ID,
            "admin_unit_id": _ID,
            "programme_code": one_of(*PROGRAMME_CODES),
            "year": integer(2000, 2100),
            "amount_fen": integer(1),
            "agreement_id": _ID,
        },
        "W8.3: a government commits local matching funds (配套资金) for a programme and year.",
    ),
    EventSpec(
        "FundCarriedOver",
        1,
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {
            "carry_over_id": _ID,
            "to_fund_account_id": _ID,
            "amount_fen": integer(1),
        },
        "W8.8: a year-end balance moves to the same earmark's next-year account (FUND-4).",
    ),
    EventSpec(
        "FundRecovered",
        1,
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {
            "recovery_id": _ID,
            "amount_fen": integer(1),
            "cause_event_id": _ID,
            "reason": text(500),
        },
        "W8.9: recovered money (an overpayment, a misuse) comes back to the account.",
    ),
)
