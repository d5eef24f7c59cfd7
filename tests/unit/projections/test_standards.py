"""The standards table fold (W9): amounts, STD-1 floors from the basis, and the months each
standard is in force under the domain's rule (latest month, then latest publication)."""

from __future__ import annotations

from ledger.projections.standards import StandardRow, StandardsTableProjection, in_force_ranges

from .test_read_models import ReadModelLog, standards


def table(upto: int | None = None) -> dict[str, StandardRow]:
    log = ReadModelLog()
    standards(log)
    return StandardsTableProjection().fold_all(log.events(upto)).standards.rows


def test_a_standard_with_its_floor() -> None:
    s = table(0)["s-2024"]
    assert (s.programme_code, s.admin_unit_id, s.support_mode, s.component) == (
        "TEKUN",
        "city",
        "DISPERSED",
        "BASIC_LIVING",
    )
    assert (s.amount_fen, s.effective_from, s.effective_to, s.published_on) == (
        1_080_000,
        "2024-07",
        None,
        "2024-05-20",
    )
    # STD-1: max(ceil(0.6 x 1,800,000), ceil(1.3 x 12 x 65,000)) = max(1,080,000, 1,014,000).
    assert s.floor_fen == 1_080_000


def test_a_later_standard_ends_the_earlier_one_the_month_before() -> None:
    rows = table(2)
    assert (rows["s-2024"].effective_to, rows["s-2024"].superseded_by) == ("2025-06", "s-2025")
    assert rows["s-2025"].effective_to is None
    # The care standard is another component: untouched.
    assert rows["s-care"].effective_to is None
    assert rows["s-care"].floor_fen is None


def test_a_same_month_correction_means_the_first_was_never_in_force() -> None:
    rows = table()
    assert (rows["s-2025"].effective_to, rows["s-2025"].superseded_by) == ("2025-06", "s-2025b")
    assert rows["s-2025"].effective_to < rows["s-2025"].effective_from
    assert (rows["s-2024"].effective_to, rows["s-2024"].superseded_by) == ("2025-06", "s-2025")
    assert rows["s-2025b"].effective_to is None


def test_in_force_ranges_orders_by_month_then_publication() -> None:
    members = [["2025-01", 9, "late"], ["2024-07", 3, "b"], ["2024-07", 1, "a"]]
    assert in_force_ranges(members) == {
        "a": ("2024-06", "b"),
        "b": ("2024-12", "late"),
        "late": (None, None),
    }
