"""Workflow steps of supervision (W12-W14) for the city demo: the city's assessment office,
leading group and inspection team, inspections with findings and co-signed reports,
rectification notices that are reported, verified and reissued, and criticisms and
commendations.

Every step is a signed envelope from the official whose role it is (``domain.md`` §4.12 -
§4.14): the team plans and reports, an inspector records findings and verifies, the
inspected unit's own official reports its rectification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ledger.client import CHINA_STANDARD_TIME
from ledger.integrity.signing import b64encode
from ledger.tools.scenario import Desk, digest

NO_REFS = {"indicator_id": None, "enrolment_id": None, "fund_account_id": None}


def _stamp(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), CHINA_STANDARD_TIME).isoformat()


@dataclass
class Inspectorate:
    """The city's assessment office (考核办), leading group and inspection team."""

    desk: Desk
    office: str = ""
    secretary: str = ""
    team_lead: str = ""
    inspectors: tuple[str, str] = ("", "")
    verifier: str = ""
    finding_events: dict[str, str] = field(default_factory=dict)
    """finding id → the id of the event that recorded it (deductions cite it)."""

    @classmethod
    def establish(cls, desk: Desk) -> Inspectorate:
        """Register the bodies and their officials under the city."""
        root = desk.admin.org_id
        office, group, team = (f"{root}-{s}" for s in ("assessment-office", "lg", "team-1"))
        desk.organisation(office, "ASSESSMENT_OFFICE", root, "市民生工程考核办公室")
        desk.organisation(group, "LEADING_GROUP", root, "市民生工程领导小组")
        desk.organisation(team, "INSPECTION_TEAM", root, "市民生工程督查组")
        desk.official(f"{office}-officer", office, ["assessment_office_officer"])
        desk.official(f"{group}-secretary", group, ["leading_group_secretary"])
        desk.official(f"{team}-lead", team, ["inspection_team_lead"])
        for who in ("insp-a", "insp-b", "insp-c"):
            desk.official(f"{team}-{who}", team, ["inspector"])
        return cls(
            desk,
            office=f"{office}-officer",
            secretary=f"{group}-secretary",
            team_lead=f"{team}-lead",
            inspectors=(f"{team}-insp-a", f"{team}-insp-b"),
            verifier=f"{team}-insp-c",
        )

    def _emit(
        self,
        actor: str,
        stream: tuple[str, str],
        event_type: str,
        payload: dict[str, Any],
        day: date,
        *,
        remember_as: str | None = None,
    ) -> None:
        self.desk.emit(
            self.desk.signers[actor], stream, event_type, payload, day, remember_as=remember_as
        )

    # ------------------------------------------------------------------ W12

    def inspect(
        self,
        inspection_id: str,
        *,
        kind: str,
        mode: str,
        targets: Sequence[str],
        visit: date,
        findings: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """W12.1-W12.6: plan (notify unless unannounced), conduct, record each finding
        ``(finding_id, target_org_id, description)`` with photo evidence, report co-signed
        by the whole team the day after the visit."""
        stream = ("inspection", inspection_id)
        team = list(self.inspectors)
        self._emit(
            self.team_lead,
            stream,
            "InspectionPlanned",
            {
                "inspection_id": inspection_id,
                "type": kind,
                "mode": mode,
                "target_org_ids": list(targets),
                "team_actor_ids": team,
                "methods": ["CHECK_RECORDS", "SITE_VIEW", "VISIT_RESIDENTS"],
                "window": {
                    "start": visit.isoformat(),
                    "end": (visit + timedelta(days=2)).isoformat(),
                },
                "scheme_id": None,
            },
            visit - timedelta(days=10),
        )
        if mode == "ANNOUNCED":
            for target in targets:
                self._emit(
                    self.team_lead,
                    stream,
                    "InspectionNotified",
                    {"target_org_id": target, "notified_at": _stamp(visit - timedelta(7), 9)},
                    visit - timedelta(days=7),
                )
        self._emit(
            team[0],
            stream,
            "InspectionConducted",
            {
                "started_at": _stamp(visit, 9),
                "ended_at": _stamp(visit, 17),
                "locations": [f"{t} 办公室与台账" for t in targets],
            },
            visit,
        )
        for finding_id, target, description in findings:
            self._emit(
                team[0],
                stream,
                "FindingRecorded",
                {
                    "finding_id": finding_id,
                    "target_org_id": target,
                    "category": "LIVELIHOOD_TARGET",
                    "location": f"{target} 档案室",
                    "description": description,
                    "severity": "MEDIUM",
                    "first_occurrence": True,
                    "related_refs": dict(NO_REFS),
                    "evidence": [{"kind": "PHOTO", "sha256": digest("photo", finding_id)}],
                },
                visit,
                remember_as=f"finding:{finding_id}",
            )
        self._report(inspection_id, visit + timedelta(days=1), bool(findings))

    def _report(self, inspection_id: str, day: date, problems: bool) -> None:
        """W12.6: every team member signs the report's digest with their own key (INS-4)."""
        report = digest("inspection-report", inspection_id)
        cosignatures = []
        for actor in self.inspectors:
            key = self.desk.signers[actor].key
            signature = b64encode(key.sign(bytes.fromhex(report)))
            cosignatures.append({"actor_id": actor, "key_id": key.key_id, "signature": signature})
        self._emit(
            self.team_lead,
            ("inspection", inspection_id),
            "InspectionReportSubmitted",
            {
                "report_sha256": report,
                "evaluation": "工作总体推进有序",
                "achievements": "资金按月足额发放、档案齐全",
                "problems": "部分台账未及时更新" if problems else "未发现问题",
                "recommendations": "限期整改并建立台账更新制度",
                "conclusion": "需整改" if problems else "合格",
                "signer_actor_ids": list(self.inspectors),
                "cosignatures": cosignatures,
            },
            day,
        )

    # ------------------------------------------------------------------ W13

    def issue_notice(
        self, notice_id: str, target: str, finding_ids: Sequence[str], day: date, deadline: date
    ) -> None:
        """W13.1: a rectification notice (限期整改) citing recorded findings (RECT-1)."""
        self._emit(
            self.team_lead,
            ("supervision_notice", notice_id),
            "SupervisionNoticeIssued",
            {
                "notice_id": notice_id,
                "kind": "RECTIFICATION",
                "target_org_id": target,
                "finding_ids": list(finding_ids),
                "deadline": deadline.isoformat(),
            },
            day,
            remember_as=f"notice:{notice_id}",
        )

    def report_rectification(self, notice_id: str, actor: str, actions: str, day: date) -> None:
        """W13.2: the inspected unit's own official reports what it rectified."""
        self._emit(
            actor,
            ("supervision_notice", notice_id),
            "RectificationReported",
            {
                "actions": actions,
                "evidence": [{"kind": "DOCUMENT", "sha256": digest("rect", notice_id, day)}],
                "reported_at": day.isoformat(),
            },
            day,
        )

    def verify(self, notice_id: str, passed: bool, day: date) -> None:
        """W13.3: an inspector from outside the unit (SOD-7) verifies on site."""
        self._emit(
            self.verifier,
            ("supervision_notice", notice_id),
            "RectificationVerified",
            {
                "result": "PASSED" if passed else "FAILED",
                "verified_at": day.isoformat(),
                "evidence": [{"kind": "PHOTO", "sha256": digest("verify", notice_id, day)}],
            },
            day,
            remember_as=f"verified:{notice_id}:{'PASSED' if passed else 'FAILED'}",
        )

    def reissue(self, notice_id: str, previous: str, day: date, deadline: date) -> None:
        """W13.5: repeated supervision (反复督办) after a FAILED verification."""
        self._emit(
            self.team_lead,
            ("supervision_notice", notice_id),
            "SupervisionNoticeReissued",
            {
                "notice_id": notice_id,
                "previous_notice_id": previous,
                "new_deadline": deadline.isoformat(),
            },
            day,
        )

    # ------------------------------------------------------------------ W14

    def circulate(
        self,
        event_type: str,
        target: str,
        *,
        issuer_org: str,
        issuer_level: str,
        document_ref: str,
        day: date,
        causes: Sequence[str] = (),
    ) -> str:
        """W14: a criticism (通报批评) or commendation (通报表扬) recorded by the office;
        returns the key its event id is remembered under."""
        key = f"{event_type}:{target}:{document_ref}"
        self._emit(
            self.office,
            ("assessment", target),
            event_type,
            {
                "issuer_org": issuer_org,
                "issuer_level": issuer_level,
                "target_org": target,
                "related_to": "LIVELIHOOD_TARGET",
                "document_ref": document_ref,
                "issued_at": day.isoformat(),
                "item": None,
                "cause_event_ids": list(causes),
            },
            day,
            remember_as=key,
        )
        return key
