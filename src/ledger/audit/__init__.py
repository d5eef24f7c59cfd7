"""Audit tooling over the log: case references, decision re-derivation, evidence bundles."""
