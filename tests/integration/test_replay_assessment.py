"""Decision replay of the assessment year: scores, the consolidated ranking and awards are
re-derived on the decision's closure and shown next to what was recorded.

The city year (``ledger.tools.demo_city``) is written once through the real service on a
SQLite file. A recorded ranking that does not recompute is shown as a mismatch by feeding the
closure with the consolidation's payload altered, exactly as an offline bundle verifier would
see an edited bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from ledger.audit.redecide import Refold
from ledger.bootstrap import ADMIN_KEY_FILE
from ledger.domain.rules import build_rules
from ledger.integrity.signing import read_private_key
from ledger.projections.case_index import CaseIndex
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.services.replay import ReplayService
from ledger.tools.demo_city import write_city_year
from ledger.tools.scenario import new_admin_desk
from tests.conftest import LedgerWorld, make_world


def fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@dataclass
class City:
    world: LedgerWorld
    replay: ReplayService

    def first(self, event_type: str) -> dict[str, Any]:
        for entry in self.world.service.store.log.entries(0, 100_000):
            fields: dict[str, Any] = orjson.loads(entry.state)
            if fields["event_type"] == event_type:
                return fields
        raise AssertionError(f"no {event_type} in the city year")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    tmp = tmp_path_factory.mktemp("city-replay")
    world = make_world(f"sqlite:///{tmp / 'ledger.db'}", tmp / "home")
    service = world.service
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )
    write_city_year(desk, fake_identity)
    projections = ProjectionStore.open(world.settings)
    Follower(projections, service.store.log).catch_up()
    replay = ReplayService(service, CaseIndex.open(world.settings), projections)
    yield City(world, replay)
    replay.index.close()
    projections.close()
    service.close()


def _derivation(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [d for d in report["recomputation"]["derivations"] if d["name"] == name]
    return found


def test_an_indicator_score_is_recomputed_on_its_closure(city: City) -> None:
    score = city.first("IndicatorScoreRecorded")
    report = city.replay.replay(score["event_id"])
    assert report["recomputation"]["result"] == "match"
    assert report["recomputation"]["basis"] == "closure"
    final = _derivation(report, "indicator_final")
    assert final["result"] == "match"
    assert final["stated"] == final["derived"]
    assert final["detail"].startswith(("F-BONUS", "F-SHORT"))


def test_the_consolidated_ranking_is_recomputed_with_the_veto(city: City) -> None:
    consolidated = city.first("AssessmentConsolidated")
    report = city.replay.replay(consolidated["event_id"])
    ranking = _derivation(report, "ranking")
    assert ranking["result"] == "match"
    assert ranking["derived"] == [
        ["county-hx", "103.8"],
        ["county-lj", "100.4"],
        ["county-dz", "96.125"],
    ]
    assert "vetoed: county-dz" in ranking["detail"]
    # The score table as the office saw it just before consolidating.
    table = report["projections"]["score_table"]
    assert {row["assessee"]: row["annual_score"] for row in table["rows"]} == {
        "county-hx": "103.8",
        "county-lj": "100.4",
        "county-dz": "96.125",
    }
    assert all(row["consolidated_score"] is None for row in table["rows"])
    assert {s["signature"] for s in report["signers"]} == {"verified"}
    assert all(p["verified"] for p in report["proofs"]["inclusion"])


def test_an_award_is_shown_eligible(city: City) -> None:
    award = city.first("AwardGranted")
    report = city.replay.replay(award["event_id"])
    eligible = _derivation(report, "award_eligible")
    assert (eligible["stated"], eligible["derived"], eligible["result"]) == (True, True, "match")


def test_a_ranking_that_does_not_recompute_is_a_mismatch(city: City) -> None:
    consolidated = city.first("AssessmentConsolidated")
    target = city.replay.entry(consolidated["event_id"])
    closure = city.replay.closure(target)
    altered = dict(consolidated)
    altered["payload"] = dict(consolidated["payload"])
    rows = [dict(row) for row in consolidated["payload"]["ranking"]]
    rows[0], rows[1] = rows[1], rows[0]  # 临江县 ahead of 和县
    altered["payload"]["ranking"] = rows
    fold = Refold(build_rules())
    for entry in closure[:-1]:
        fold.add(entry.index, orjson.loads(entry.state))
    verdict = fold.add(target.index, altered, judge=True)
    assert verdict is not None
    assert (verdict.result, verdict.code) == ("mismatch", "SCO-6")
    (ranking,) = [d for d in verdict.derivations if d.name == "ranking"]
    assert ranking.result == "mismatch"
    assert ranking.derived[0] == ["county-hx", "103.8"]
    assert ranking.stated[0] == ["county-lj", "100.4"]
