"""AF-APP-NO-NOTICE, AF-APP-RELATIVE-UNFILED and AF-APP-SPOTCHECK detectors, over live events
and imported legacy records."""

from __future__ import annotations

from typing import Any

from ledger.domain.spot_checks import draw_sample
from ledger.findings.procedure import (
    ApprovalWithoutNotice,
    NoticeTooShort,
    RelativeUnfiled,
    SpotCheckNotReproducible,
)
from tests.unit.findings.builders import Feed, legacy, programme

SHA = "a" * 64


def _legacy_notice(feed: Feed, start: str, end: str, kind: str = "PRELIMINARY_OPINION") -> None:
    legacy(
        feed,
        "legacy-n-1",
        {
            "type": "PUBLIC_NOTICE",
            "notice_id": "old-notice-17",
            "kind": kind,
            "subject_ids": ["old-app-17"],
            "location_org_id": "village-1",
            "start_date": start,
            "end_date": end,
        },
    )


def test_a_legacy_notice_of_five_days_is_found_against_the_programmes_seven() -> None:
    feed = Feed([NoticeTooShort()])
    defined = programme(feed)
    _legacy_notice(feed, "2019-03-01", "2019-03-05")

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.rule_ref) == (
        "AF-APP-NO-NOTICE",
        ("old-notice-17",),
        "APP-7",
    )
    assert defined.event_id in found.evidence_event_ids
    assert "up 5 day(s)" in found.summary and "7 are required" in found.summary


def test_a_legacy_notice_of_exactly_seven_days_both_ends_included_is_clean() -> None:
    feed = Feed([NoticeTooShort()])
    programme(feed)
    _legacy_notice(feed, "2019-03-01", "2019-03-07")

    assert feed.findings() == []


def test_a_live_notice_is_held_to_its_applications_programme() -> None:
    feed = Feed([NoticeTooShort()])
    programme(feed, "TEKUN")
    from tests.unit.domain.case_builders import programme_payload

    feed.event(
        "ProgrammeDefined",
        "DIBAO_RURAL",
        programme_payload("DIBAO_RURAL", notice_days=10),
        actor="admin-1",
        on="2024-01-02",
    )
    feed.event(
        "ApplicationSubmitted",
        "app-9",
        _submission("app-9", "DIBAO_RURAL"),
        actor="clerk-1",
        on="2024-02-01",
    )
    feed.event(
        "PublicNoticePosted",
        "n-9",
        {
            "notice_id": "n-9",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["app-9"],
            "location_org_id": "village-1",
            "start_date": "2024-03-01",
            "end_date": "2024-03-08",
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on="2024-03-01",
    )

    assert feed.codes() == [("AF-APP-NO-NOTICE", ("n-9",))]


def _submission(app: str, programme_code: str) -> dict[str, Any]:
    from tests.unit.domain.case_builders import submission_payload

    payload: dict[str, Any] = submission_payload(app)
    payload["programme_code"] = programme_code
    return payload


def _legacy_approval(
    feed: Feed, *, filed: bool, approver: str = "approver-9", related: bool = True
) -> None:
    legacy(
        feed,
        "legacy-a-1",
        {
            "type": "APPROVAL",
            "application_id": "old-app-3",
            "person_id": "p-old-3",
            "programme_code": "DIBAO_RURAL",
            "approved_on": "2020-05-11",
            "approver_actor_id": approver,
            "related_officials": (
                [
                    {
                        "official_actor_id": "vcm-1",
                        "official_role": "VILLAGE_COMMITTEE_MEMBER",
                        "relationship": "brother",
                    }
                ]
                if related
                else []
            ),
            "relative_filed": filed,
        },
    )


def test_a_legacy_approval_of_an_officials_relative_without_filing_is_found() -> None:
    feed = Feed([RelativeUnfiled()])
    _legacy_approval(feed, filed=False)

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.period) == (
        "AF-APP-RELATIVE-UNFILED",
        ("old-app-3",),
        "2020-05",
    )
    assert found.admin_unit_id == "township-1"


def test_a_filed_relative_is_clean_unless_the_related_official_approved() -> None:
    feed = Feed([RelativeUnfiled()])
    _legacy_approval(feed, filed=True)
    _legacy_approval(feed, filed=False, related=False)
    assert feed.findings() == []

    _legacy_approval(feed, filed=True, approver="vcm-1")

    assert feed.codes() == [("AF-APP-RELATIVE-UNFILED", ("old-app-3",))]


def test_a_live_approval_after_a_declared_unfiled_relationship_is_found() -> None:
    feed = Feed([RelativeUnfiled()])
    declared = {
        "person_id": "p-1",
        "official_actor_id": "vcm-1",
        "official_role": "VILLAGE_COMMITTEE_MEMBER",
        "relationship": "son",
    }
    feed.event(
        "OfficialRelationshipDeclared",
        "app-1",
        {**declared, "source": "REPORT"},
        actor="clerk-1",
        on="2024-02-01",
    )
    feed.event("ApplicationApproved", "app-1", _approval(), actor="approver-1", on="2024-03-20")
    feed.event(
        "OfficialRelationshipDeclared",
        "app-2",
        {**declared, "source": "REPORT"},
        actor="clerk-1",
        on="2024-02-01",
    )
    feed.event("RelativeOfOfficialFiled", "app-2", declared, actor="clerk-1", on="2024-02-02")
    feed.event("ApplicationApproved", "app-2", _approval(), actor="approver-1", on="2024-03-20")

    assert feed.codes() == [("AF-APP-RELATIVE-UNFILED", ("app-1",))]


def _approval() -> dict[str, Any]:
    return {
        "support_mode": "DISPERSED",
        "institution_id": None,
        "standard_ref": "01a241d8-6337-7b2e-a0bb-74d5f8834c2f",
        "annual_amount_fen": 130_000,
        "first_payable_period": "2024-04",
        "dossier_id": "d-1",
        "household_treatment": "NORMAL",
        "spot_check_batch_id": "batch-1",
    }


POPULATION = [f"app-{i:02d}" for i in range(10)]


def _sample(feed: Feed, sampled: list[str], *, seed: int = 7, live: bool = False) -> None:
    body = {
        "batch_id": "batch-1",
        "township_org_id": "township-1",
        "population_ids": POPULATION,
        "sampled_ids": sampled,
        "rng_algorithm": "SPLITMIX64-FISHER-YATES-v1",
        "rng_seed": seed,
        "ratio": "0.30",
    }
    if live:
        feed.event(
            "CountySpotCheckSampleDrawn", "batch-1", body, actor="checker-1", on="2024-03-01"
        )
    else:
        legacy(feed, "legacy-s-1", {"type": "SPOT_CHECK_SAMPLE", **body})


def test_a_legacy_sample_that_does_not_redraw_from_its_seed_is_found() -> None:
    feed = Feed([SpotCheckNotReproducible()])
    honest = draw_sample(POPULATION, 7, 3)
    swapped = [*honest[:2], next(a for a in POPULATION if a not in honest)]
    _sample(feed, swapped)

    [found] = feed.findings()

    assert (found.code, found.subject_refs) == ("AF-APP-SPOTCHECK", ("batch-1",))
    assert "not the sample SPLITMIX64-FISHER-YATES-v1 draws from seed 7" in found.summary


def test_a_reproducible_sample_is_clean_and_a_too_small_one_is_found() -> None:
    feed = Feed([SpotCheckNotReproducible()])
    _sample(feed, draw_sample(POPULATION, 7, 3), live=True)
    assert feed.findings() == []

    _sample(feed, draw_sample(POPULATION, 7, 2))

    [found] = feed.findings()
    assert "2 sampled of 10, at least 3" in found.summary


# --- AF-APP-NO-NOTICE on approvals (ApprovalWithoutNotice) -------------------------------------


def _notice(feed: Feed, start: str, end: str, *, on: str, app: str = "app-1") -> None:
    feed.event(
        "PublicNoticePosted",
        "n-1",
        {
            "notice_id": "n-1",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": [app],
            "location_org_id": "village-1",
            "start_date": start,
            "end_date": end,
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on=on,
    )


def _approve(feed: Feed, on: str, app: str = "app-1") -> None:
    feed.event("ApplicationApproved", app, _approval(), actor="approver-1", on=on)


def _objection(feed: Feed, objection: str, *, investigated: bool) -> None:
    feed.event(
        "ObjectionReceived",
        "n-1",
        {
            "objection_id": objection,
            "subject_id": "app-1",
            "received_on": "2024-03-04",
            "channel": "WRITTEN",
            "content_sha256": SHA,
        },
        actor="reviewer-1",
        on="2024-03-04",
    )
    if investigated:
        feed.event(
            "ObjectionInvestigated",
            "n-1",
            {"objection_id": objection, "finding": "DISMISSED", "summary_sha256": SHA},
            actor="inv-1",
            on="2024-03-06",
        )


def test_an_approval_after_a_complete_notice_is_clean() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    feed.event(
        "ApplicationSubmitted",
        "app-1",
        _submission("app-1", "TEKUN"),
        actor="clerk-1",
        on="2024-02-01",
    )
    _notice(feed, "2024-03-01", "2024-03-07", on="2024-03-01")
    _objection(feed, "obj-1", investigated=True)
    _approve(feed, "2024-03-08")

    assert feed.findings() == []


def test_an_approval_with_no_notice_at_all_is_found() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    feed.event(
        "ApplicationSubmitted",
        "app-1",
        _submission("app-1", "TEKUN"),
        actor="clerk-1",
        on="2024-02-01",
    )
    _approve(feed, "2024-03-08")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref, found.severity) == (
        "AF-APP-NO-NOTICE",
        ("app-1",),
        "APP-8",
        "H",
    )
    assert "with no preliminary-opinion notice" in found.summary
    assert found.admin_unit_id == "township-1"


def test_an_approval_on_the_last_day_of_the_notice_is_found() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    _notice(feed, "2024-03-01", "2024-03-07", on="2024-03-01")
    _approve(feed, "2024-03-07")

    [found] = feed.findings()
    assert "before notice n-1 ended on 2024-03-07" in found.summary


def test_a_notice_recorded_after_the_approval_is_backdated() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    _approve(feed, "2024-03-20")
    _notice(feed, "2024-03-01", "2024-03-07", on="2024-03-21")

    [found] = feed.findings()
    assert "a backdated notice" in found.summary
    assert len(found.evidence_event_ids) == 2


def test_an_objection_not_investigated_before_the_approval_is_found() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    _notice(feed, "2024-03-01", "2024-03-07", on="2024-03-01")
    _objection(feed, "obj-1", investigated=True)
    _objection(feed, "obj-2", investigated=False)
    _approve(feed, "2024-03-08")

    [found] = feed.findings()
    assert "objection(s) obj-2 to notice n-1 not investigated" in found.summary


def test_legacy_approvals_are_held_to_legacy_notices() -> None:
    feed = Feed([ApprovalWithoutNotice()])
    legacy(
        feed,
        "legacy-n-3",
        {
            "type": "PUBLIC_NOTICE",
            "notice_id": "old-notice-3",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["old-app-3"],
            "location_org_id": "village-1",
            "start_date": "2020-05-01",
            "end_date": "2020-05-07",
        },
    )
    _legacy_approval(feed, filed=True)  # approved on 2020-05-11
    assert feed.findings() == []

    unannounced = Feed([ApprovalWithoutNotice()])
    _legacy_approval(unannounced, filed=True)
    [found] = unannounced.findings()
    assert found.summary.startswith("legacy application old-app-3 was approved on 2020-05-11")
    assert found.admin_unit_id == "township-1"
