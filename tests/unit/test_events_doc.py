"""docs/EVENTS.md is exactly what the catalogue generates (it cannot drift from the code)."""

from __future__ import annotations

from pathlib import Path

from ledger.tools.catalogue_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "EVENTS.md"


def test_events_document_matches_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m ledger.tools.catalogue_doc > docs/EVENTS.md"
    )


def test_every_business_event_is_documented_with_its_fields() -> None:
    text = render()
    for name in ("ApplicationApproved", "PaymentBatchPrepared", "FundExpenditureAuthorised"):
        assert f"### `{name}`" in text
    assert "| `annual_amount_fen` | integer ≥ 0 |" in text
