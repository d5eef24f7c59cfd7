"""AF-ELIG-EXCLUSIVE-DUPLICATE: one person enrolled twice in the same or exclusive programmes."""

from __future__ import annotations

from ledger.findings.eligibility import ExclusiveDuplicate
from tests.unit.findings.builders import Feed, programme


def _enrol(feed: Feed, enrolment: str, programme_code: str, person: str = "p-1") -> None:
    feed.event(
        "BeneficiaryEnrolled",
        enrolment,
        {
            "enrolment_id": enrolment,
            "application_id": f"app-{enrolment}",
            "person_id": person,
            "household_id": "h-1",
            "programme_code": programme_code,
            "support_mode": "DISPERSED",
            "institution_id": None,
            "annual_amount_fen": 130_000,
            "standard_ref": "01a241d8-6337-7b2e-a0bb-74d5f8834c2f",
            "first_payable_period": "2024-03",
            "payment_account_id": "acc-1",
            "dossier_id": "d-1",
        },
        actor="approver-1",
        on="2024-02-21",
    )


def test_tekun_and_rural_dibao_at_once_is_a_duplicate() -> None:
    feed = Feed([ExclusiveDuplicate()])
    programme(feed, "TEKUN")  # exclusive_with DIBAO_RURAL
    _enrol(feed, "enr-1", "TEKUN")
    _enrol(feed, "enr-2", "DIBAO_RURAL")

    [found] = feed.findings()
    assert (found.code, found.subject_refs) == (
        "AF-ELIG-EXCLUSIVE-DUPLICATE",
        ("p-1", "enr-1", "enr-2"),
    )


def test_a_terminated_enrolment_or_another_person_or_a_compatible_programme_is_clean() -> None:
    feed = Feed([ExclusiveDuplicate()])
    programme(feed, "TEKUN")
    _enrol(feed, "enr-1", "TEKUN")
    feed.event(
        "TerminationDecided",
        "enr-1",
        {"effective_period": "2024-05", "reasons": ["referred"], "notice_id": "n-1"},
        actor="approver-1",
        on="2024-04-20",
    )
    _enrol(feed, "enr-2", "DIBAO_RURAL")
    _enrol(feed, "enr-3", "TEKUN", person="p-2")
    _enrol(feed, "enr-4", "MEDICAL_AID", person="p-2")

    assert feed.findings() == []
