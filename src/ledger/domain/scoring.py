"""Scoring and calculation formulas of ``domain.md`` §5 (pure, exact arithmetic).

Placeholder: filled in by the target-management work (issue 4).
"""

from __future__ import annotations
