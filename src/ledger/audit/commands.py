"""``ledger replay``, ``ledger timeline``, ``ledger export --case`` and ``ledger
verify-bundle`` (parsers in :mod:`ledger.tools.cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from ledger.settings import Settings

EXIT_DAMAGED = 1
EXIT_MISMATCH = 3
"""verify-bundle: the bundle is authentic, but a decision in it does not re-derive."""


def _open(settings: Settings) -> Any:
    from ledger.bootstrap import open_ledger
    from ledger.projections.case_index import CaseIndex
    from ledger.projections.follower import Follower
    from ledger.projections.store import ProjectionStore
    from ledger.services.replay import ReplayService

    service = open_ledger(settings)
    projections = ProjectionStore.open(settings)
    Follower(projections, service.store.log).catch_up()
    return ReplayService(service, CaseIndex.open(settings), projections)


def _close(replay: Any) -> None:
    replay.index.close()
    if replay.projections is not None:
        replay.projections.close()
    replay.ledger.close()


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def replay(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger replay EVENT_ID [--json]``: exit 0 on match, 3 on mismatch."""
    service = _open(settings)
    try:
        report = service.replay(args.event_id)
    finally:
        _close(service)
    print(_dump(report) if args.json else render_replay(report))
    return 0 if report["recomputation"]["result"] == "match" else EXIT_MISMATCH


def timeline(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger timeline SUBJECT_ID [--json]``."""
    service = _open(settings)
    try:
        report = service.timeline(args.subject_id)
    finally:
        _close(service)
    if args.json:
        print(_dump(report))
        return 0
    print(f"timeline of {report['subject_id']}: {report['count']} events")
    for e in report["events"]:
        print(
            f"  #{e['index']:<6} {e['occurred_at'][:10]}  {e['event_type']:<34} {e['stream']:<40}"
            f" {e['actor_id']} ({e['role']} @ {e['org_id']})"
        )
    return 0


def export(settings: Settings, args: argparse.Namespace) -> int:
    """``ledger export --case ID --out FILE``; without ``--case`` the directory export."""
    if args.case is None:
        from ledger.tools import commands

        if args.directory is None:
            print("ledger export: give a DIRECTORY, or --case ID --out FILE")
            return 2
        return commands.export(settings, args)
    from ledger.services.bundles import export_case

    if args.out is None:
        print("ledger export --case needs --out FILE")
        return 2
    out = Path(args.out)
    if out.exists():
        raise FileExistsError(f"{out} exists; refusing to overwrite a bundle")
    service = _open(settings)
    try:
        bundle = export_case(service, args.case)
    finally:
        _close(service)
    out.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    mismatches = [d for d in bundle["decisions"] if d["result"] != "match"]
    print(
        f"wrote {out}: case {args.case}, {len(bundle['events'])} events, "
        f"{len(bundle['decisions'])} decisions re-derived ({len(mismatches)} mismatch), "
        f"checkpoint size {bundle['checkpoint']['size']}"
    )
    return 0


def verify_bundle(_settings: Settings, args: argparse.Namespace) -> int:
    """``ledger verify-bundle FILE [--verifier-key K] [--json]``: offline; exit 0 ok,
    1 damaged, 3 authentic but a decision does not re-derive."""
    from ledger.services.bundles import verify_bundle as run

    report = run(Path(args.file).read_bytes(), verifier_key=args.verifier_key)
    mismatches = [d for d in report.decisions if d["result"] != "match"]
    if args.json:
        print(_dump(report.as_dict()))
    elif report.ok:
        print(
            f"bundle OK: case {report.case}, {report.events} events in checkpoint of size "
            f"{report.checkpoint_size}; {len(report.decisions)} decisions re-derived, "
            f"{len(mismatches)} mismatch"
        )
        for d in mismatches:
            print(f"  MISMATCH {d['event_type']} #{d['index']}: {d['code']} {d['detail']}")
    else:
        first = report.problems[0]
        print(f"bundle DAMAGED ({first['check']}): {first['reason']}")
        for p in report.problems[1:10]:
            print(f"  also ({p['check']}): {p['reason']}")
    if not report.ok:
        return EXIT_DAMAGED
    return EXIT_MISMATCH if mismatches else 0


def render_replay(r: dict[str, Any]) -> str:
    """The replay report for people."""
    d, rec = r["decision"], r["recomputation"]
    lines = [
        f"decision {d['event_type']} {d['event_id']} at log index {d['index']}",
        f"  stream {d['stream']} v{d['version']}, occurred {d['occurred_at']}, "
        f"recorded {d['recorded_at']}",
        f"  by {d['actor_id']} as {d['role']} for {d['org_id']}",
        f"recomputation: {rec['result'].upper()} (rules re-run on the {rec['basis']}, "
        f"{rec['closure_events']} events)",
    ]
    if rec["code"]:
        lines.append(f"  refused with {rec['code']}: {rec['detail']}  evidence {rec['evidence']}")
    for der in rec["derivations"]:
        lines.append(f"  {der['name']}: {der['result']} - {der['detail']}")
    lines.append(
        "causation chain: " + (", ".join(e["event_type"] for e in r["causation_chain"]) or "none")
    )
    for e in r["cited_events"]:
        lines.append(f"  cites {e['event_type']} {e['event_id']} (#{e['index']})")
    lines.append("signers (checked with the registry at each position):")
    for s in r["signers"]:
        lines.append(
            f"  #{s['index']} {s['actor_id']} {s['role']} @ {s['org_id']} key {s['key_id'][:12]}… "
            f"{s['signature']}" + (f" ({s.get('reason')})" if s["signature"] != "verified" else "")
        )
    lines.append(f"rule versions in force: {len(r['rule_versions'])}")
    for v in r["rule_versions"]:
        lines.append(f"  #{v['index']} {v['event_type']} {v['stream']}")
    proj = r["projections"]
    if proj.get("available", True):
        lines.append(f"projections as known at {proj['as_known_at']}:")
        for name in ("roster", "fund_ledger"):
            lines.append(
                f"  {name}: {len(proj[name]['rows'])} rows, state hash {proj[name]['state_hash']}"
            )
    proofs = r["proofs"]
    if proofs.get("checkpoint"):
        ok, total = sum(p["verified"] for p in proofs["inclusion"]), len(proofs["inclusion"])
        lines.append(
            f"inclusion in checkpoint of size {proofs['checkpoint']['size']} "
            f"(signature {proofs['checkpoint_signature']}): {ok}/{total} verified"
        )
    return "\n".join(lines)
