"""The integrity verifier (DESIGN.md §5, domain.md §8 V1-V7, V13).

``verify(source)`` recomputes everything from raw storage or an export and reports each kind
of damage with the first affected log index. See :mod:`ledger.verification.engine`.
"""

from ledger.verification.engine import Damage, Finding, Report, VerifyOptions, verify

__all__ = ["Damage", "Finding", "Report", "VerifyOptions", "verify"]
