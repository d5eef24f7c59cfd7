"""The follower's read-ahead (PostgreSQL) hands out exactly the page asked for."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from ledger.projections.follower import _ReadAhead


@dataclass(frozen=True)
class _Entry:
    index: int


class _Log:
    def __init__(self, size: int) -> None:
        self.size = size
        self.reads: list[int] = []

    def entries(self, start: int, limit: int) -> Sequence[_Entry]:
        self.reads.append(start)
        return [_Entry(i) for i in range(start, min(start + limit, self.size))]


def test_the_next_page_is_read_ahead_and_used() -> None:
    log = _Log(10)
    with ThreadPoolExecutor(1) as pool:
        reader = _ReadAhead(log, 4, pool)  # type: ignore[arg-type]
        pages = [reader.entries(0), reader.entries(4), reader.entries(8)]
    assert [[e.index for e in p] for p in pages] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert log.reads == [0, 4, 8]  # each page read once; no read beyond a short page


def test_a_page_from_another_position_is_read_afresh() -> None:
    # Another follower moved the position: the page read ahead is not the one asked for.
    log = _Log(20)
    with ThreadPoolExecutor(1) as pool:
        reader = _ReadAhead(log, 4, pool)  # type: ignore[arg-type]
        reader.entries(0)
        page = reader.entries(9)
    assert [e.index for e in page] == [9, 10, 11, 12]
    # 4 was read ahead and dropped; 9 read now; 13 read ahead for the next call.
    assert sorted(log.reads) == [0, 4, 9, 13]


def test_a_failed_read_ahead_raises_in_the_follower() -> None:
    class _Broken(_Log):
        def entries(self, start: int, limit: int) -> Sequence[_Entry]:
            if start > 0:
                raise OSError("connection lost")
            return super().entries(start, limit)

    with ThreadPoolExecutor(1) as pool:
        reader = _ReadAhead(_Broken(10), 4, pool)  # type: ignore[arg-type]
        reader.entries(0)
        with pytest.raises(OSError, match="connection lost"):
            reader.entries(4)
