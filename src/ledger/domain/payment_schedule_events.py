"""Payload schema of a programme's payment due dates (see :mod:`ledger.domain.payment_schedule`)."""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.fields import IDENTIFIER, PERIOD, integer

PAYMENT_SCHEDULE_EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "PaymentDueDatePublished",
        1,
        "payment_schedule",
        Kind.CONFIG,
        frozenset({"government_approver"}),
        {"programme_code": IDENTIFIER, "due_day": integer(1, 28), "effective_from": PERIOD},
        "When a programme's instalment is due (按时): by day `due_day` of the first month of "
        "its period (the 10th of the month, or of the quarter's first month), from "
        "`effective_from` on. A settlement valued later raises AF-PAY-LATE (W2.4, soft).",
    ),
)
