"""Event-sourced, tamper-evident record ledger for livelihood programmes (民生工程).

Layers (DESIGN.md §2): ``ledger.domain`` (pure rules), ``ledger.integrity`` (canonical JSON,
signatures, Merkle proofs, checkpoints: pure functions over bytes), ``ledger.store``
(eventsourcing applications and integrity recorders), ``ledger.services`` (the append path),
``ledger.projections``, ``ledger.api`` and ``ledger.tools``.
"""

__version__ = "0.1.0"
