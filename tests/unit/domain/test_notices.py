"""Public notices and objections (APP-7, W1.8 to W1.10)."""

from __future__ import annotations

import pytest

from ledger.domain import notices
from ledger.domain.applications import Status
from ledger.errors import AuthorizationError
from tests.unit.domain.case_builders import SHA_A, Case, refused, seeded_world


@pytest.fixture
def case() -> Case:
    world, seeded = seeded_world()
    return Case(world, seeded).submit().accept().authorise().investigate().opinion()


def posted(case: Case) -> notices.Notice:
    assert case.notice_id is not None
    found = notices.notice(case.world.state, case.notice_id)
    assert found is not None
    return found


def test_a_preliminary_notice_puts_the_case_in_notice(case: Case) -> None:
    case.post_notice(start="2024-03-19", end="2024-03-25")

    assert case.app().status == Status.IN_NOTICE
    assert posted(case).window_days == 7
    opinion = case.app().opinion
    assert opinion is not None and opinion.notice_id == case.notice_id


def test_app_7_refuses_a_window_shorter_than_the_programmes_notice_days(case: Case) -> None:
    with refused("APP-7"):
        case.post_notice(start="2024-03-19", end="2024-03-24")


def test_app_7_refuses_a_window_that_ends_before_it_starts(case: Case) -> None:
    with refused("APP-7"):
        case.post_notice(start="2024-03-19", end="2024-03-18")


def test_app_7_posts_the_notice_where_the_applicant_lives(case: Case) -> None:
    with refused("APP-7"):
        case.post_notice(location="village-1b")


def test_a_notice_outside_the_actors_area_is_out_of_scope(case: Case) -> None:
    with pytest.raises(AuthorizationError):
        case.post_notice(actor="vcm-1b")


def test_a_village_committee_member_may_post_in_the_village(case: Case) -> None:
    case.post_notice(actor="vcm-1")

    assert case.app().status == Status.IN_NOTICE


def test_a_preliminary_notice_needs_an_issued_opinion() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).submit().accept()

    with refused("APP-0"):
        case.post_notice()


def test_a_notice_about_an_unknown_application_is_refused(case: Case) -> None:
    case.id = "app-unknown"

    with refused("ENV-8"):
        case.post_notice()


def test_a_result_publication_needs_an_approved_case(case: Case) -> None:
    with refused("APP-0"):
        case.post_notice(kind="RESULT_PUBLICATION")


def test_a_result_is_published_after_approval() -> None:
    world, seeded = seeded_world()
    case = Case(world, seeded).to_approved()

    case.post_notice(kind="RESULT_PUBLICATION", start="2024-03-29", end="2024-04-04")

    assert posted(case).kind == "RESULT_PUBLICATION"
    assert case.app().status == Status.APPROVED


def test_a_notice_id_is_used_once(case: Case) -> None:
    case.post_notice()
    other = Case(case.world, case.seeded, "app-2")
    other.submit().accept().authorise().investigate().opinion()

    with refused("ENV-7"):
        case.world.emit(
            "PublicNoticePosted",
            "notice-app-1-1",
            {
                "notice_id": "notice-app-1-1",
                "kind": "PRELIMINARY_OPINION",
                "subject_ids": ["app-2"],
                "location_org_id": "village-1",
                "start_date": "2024-03-19",
                "end_date": "2024-03-25",
                "content_sha256": SHA_A,
            },
            actor="reviewer-1",
        )


def test_an_objection_in_the_window_is_recorded_on_time(case: Case) -> None:
    case.post_notice().object("obj-1", received_on="2024-03-25")

    objection = notices.objection(case.world.state, "obj-1")
    assert objection is not None
    assert not objection.late
    assert objection.is_open
    assert posted(case).objection_ids == ("obj-1",)


def test_a_late_objection_is_recorded_and_flagged(case: Case) -> None:
    case.post_notice().object("obj-1", received_on="2024-03-26")

    objection = notices.objection(case.world.state, "obj-1")
    assert objection is not None and objection.late


def test_an_objection_is_investigated_once(case: Case) -> None:
    case.post_notice().object().resolve()

    with refused("ENV-7"):
        case.resolve()


def test_an_unknown_objection_cannot_be_investigated(case: Case) -> None:
    case.post_notice()

    with refused("ENV-8"):
        case.resolve("obj-404")


def test_a_dismissed_objection_leaves_the_case_in_notice(case: Case) -> None:
    case.post_notice().object().resolve(finding="DISMISSED")

    assert case.app().status == Status.IN_NOTICE


def test_an_upheld_objection_sends_the_case_back_to_investigation(case: Case) -> None:
    case.post_notice().object().resolve(finding="UPHELD")

    assert case.app().status == Status.REINVESTIGATING


def test_app_7_a_notice_is_not_closed_before_its_end(case: Case) -> None:
    case.post_notice(start="2024-03-19", end="2024-03-25")

    with refused("APP-7"):
        case.close_notice("2024-03-25")


def test_a_notice_is_not_closed_on_a_date_still_to_come(case: Case) -> None:
    case.post_notice()
    assert case.notice_id is not None

    with refused("APP-7"):
        case.world.emit(
            "PublicNoticeClosed",
            case.notice_id,
            {"closed_on": "2024-03-30"},
            actor="reviewer-1",
            on="2024-03-26",
        )


def test_a_notice_is_closed_once(case: Case) -> None:
    case.post_notice().close_notice()

    with refused("ENV-7"):
        case.close_notice("2024-03-27")


def test_closing_records_the_unresolved_objections(case: Case) -> None:
    case.post_notice().object("obj-1").object("obj-2").resolve("obj-1")

    case.close_notice()

    assert posted(case).unresolved_at_close == 1
    assert posted(case).closed_on is not None


def test_closing_an_unknown_notice_is_refused(case: Case) -> None:
    with refused("ENV-8"):
        case.world.emit(
            "PublicNoticeClosed", "ghost", {"closed_on": "2024-03-26"}, actor="reviewer-1"
        )
