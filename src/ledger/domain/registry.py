"""The key and role registry: who may sign what, as of each log position.

The registry is a pure fold over the registry events in the log (``domain.md`` §6.2). The
append path and the verifier both use it, so "was this event authorised when it was
recorded?" has exactly one answer. Positions are log indexes: a key registered at index 5 is
usable from index 6 on; a key revoked at index 9 is refused from index 10 on.

Key ids are given, not computed here (hashing is the integrity layer's job): the service
checks that ``key_id`` is the digest of ``public_key`` before a registration reaches us.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.catalogue import REGISTRY_ADMIN, EventSpec
from ledger.errors import (
    AuthorizationError,
    LedgerStateError,
    RuleViolation,
    SignatureRejectedError,
)


@dataclass
class KeyRecord:
    """A registered signing key and its lifetime in log positions."""

    key_id: str
    public_key: str
    actor_id: str
    registered_at: int
    revoked_at: int | None = None
    revocation_reason: str | None = None


@dataclass(frozen=True)
class Organisation:
    """An organisation in the hierarchy that role grants are scoped to."""

    org_id: str
    kind: str
    parent_org_id: str | None
    name: str


@dataclass(frozen=True)
class Actor:
    """A person or system component that signs events."""

    actor_id: str
    org_id: str
    kind: str
    person_ref: str | None = None
    """The natural person behind the account (separation of duties compares persons)."""


@dataclass(frozen=True)
class Grant:
    """A role for an organisation (and its descendants when ``include_descendants``)."""

    actor_id: str
    role: str
    org_id: str
    include_descendants: bool
    granted_at: int


@dataclass
class Registry:
    """State of keys, actors, organisations and role grants after some log prefix."""

    origin: str | None = None
    ledger_public_key: str | None = None
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    grants: dict[tuple[str, str, str], Grant] = field(default_factory=dict)
    version: int = 0
    """Number of registry events applied (the registry stream's length)."""

    # ------------------------------------------------------------------ authorisation

    def check_key(self, key_id: str, actor_id: str, position: int) -> KeyRecord:
        """The key record if ``key_id`` may sign for ``actor_id`` at ``position`` (ENV-1).

        Raises:
            SignatureRejectedError: unknown key, revoked key, or key bound to another actor.
        """
        record = self.keys.get(key_id)
        if record is None or record.registered_at >= position:
            raise SignatureRejectedError(
                f"signing key {key_id} is not registered at log position {position}",
                reason="unknown_key",
                key_id=key_id,
                position=position,
            )
        if record.revoked_at is not None and record.revoked_at < position:
            raise SignatureRejectedError(
                f"signing key {key_id} was revoked ({record.revocation_reason}) at log position "
                f"{record.revoked_at}",
                reason="revoked_key",
                key_id=key_id,
                revoked_at=record.revoked_at,
                revocation_reason=record.revocation_reason,
            )
        if record.actor_id != actor_id:
            raise SignatureRejectedError(
                f"signing key {key_id} is bound to actor {record.actor_id}, not {actor_id}",
                reason="key_bound_to_other_actor",
                key_id=key_id,
                bound_actor_id=record.actor_id,
                envelope_actor_id=actor_id,
            )
        return record

    def check_role(self, actor_id: str, role: str, org_id: str, spec: EventSpec) -> None:
        """Refuse unless ``actor_id`` holds ``role`` for ``org_id`` and the role may emit
        ``spec.event_type`` (ENV-2).

        Raises:
            AuthorizationError: with the grant that is missing.
        """
        if role not in spec.roles:
            raise AuthorizationError(
                f"role {role} may not emit {spec.event_type} (allowed: "
                f"{', '.join(sorted(spec.roles))})",
                reason="role_not_allowed_for_event_type",
                role=role,
                event_type=spec.event_type,
            )
        if not self.holds_role(actor_id, role, org_id):
            raise AuthorizationError(
                f"actor {actor_id} does not hold role {role} for organisation {org_id}",
                reason="role_not_granted",
                actor_id=actor_id,
                role=role,
                org_id=org_id,
            )

    def holds_role(self, actor_id: str, role: str, org_id: str) -> bool:
        """Whether a grant covers ``org_id`` directly or through an ancestor."""
        if (actor_id, role, org_id) in self.grants:
            return True
        for ancestor in self.ancestors(org_id):
            grant = self.grants.get((actor_id, role, ancestor))
            if grant is not None and grant.include_descendants:
                return True
        return False

    def ancestors(self, org_id: str) -> list[str]:
        """The chain of parent organisations of ``org_id``, nearest first."""
        chain: list[str] = []
        org = self.organisations.get(org_id)
        while org is not None and org.parent_org_id is not None and org.parent_org_id not in chain:
            chain.append(org.parent_org_id)
            org = self.organisations.get(org.parent_org_id)
        return chain

    # ------------------------------------------------------------------ decisions

    def decide(self, event_type: str, payload: Mapping[str, Any], position: int) -> None:
        """Refuse a registry event that would break the registry's rules (REG-1 … REG-8)."""
        if event_type == "LedgerInitialised":
            if position != 0 or self.origin is not None:
                raise LedgerStateError(
                    "LedgerInitialised must be the first event of the log",
                    code="REG-1",
                    position=position,
                )
            return
        if self.origin is None:
            raise LedgerStateError(
                "the ledger is not initialised: LedgerInitialised must come first", code="REG-1"
            )
        checker = _DECISIONS.get(event_type)
        if checker is not None:
            checker(self, payload)

    def _decide_org(self, p: Mapping[str, Any]) -> None:
        _refuse_if(
            p["org_id"] in self.organisations,
            "REG-2",
            "organisation already registered",
            org_id=p["org_id"],
        )
        parent = p["parent_org_id"]
        _refuse_if(
            parent is not None and parent not in self.organisations,
            "REG-3",
            "parent organisation is not registered",
            parent_org_id=parent,
        )

    def _decide_actor(self, p: Mapping[str, Any]) -> None:
        _refuse_if(
            p["actor_id"] in self.actors,
            "REG-2",
            "actor already registered",
            actor_id=p["actor_id"],
        )
        _refuse_if(
            p["org_id"] not in self.organisations,
            "REG-3",
            "the actor's organisation is not registered",
            org_id=p["org_id"],
        )

    def _decide_key(self, p: Mapping[str, Any]) -> None:
        # One key, one actor, forever (V13): a key id is never re-registered, even after revocation.
        existing = self.keys.get(p["key_id"])
        _refuse_if(
            existing is not None,
            "REG-4",
            "signing key already registered",
            key_id=p["key_id"],
            bound_actor_id=existing.actor_id if existing else None,
        )
        _refuse_if(
            p["actor_id"] not in self.actors,
            "REG-3",
            "the key's actor is not registered",
            actor_id=p["actor_id"],
        )

    def _decide_revocation(self, p: Mapping[str, Any]) -> None:
        record = self.keys.get(p["key_id"])
        _refuse_if(record is None, "REG-5", "cannot revoke an unregistered key", key_id=p["key_id"])
        _refuse_if(
            record is not None and record.revoked_at is not None,
            "REG-5",
            "key is already revoked",
            key_id=p["key_id"],
        )
        _refuse_if(
            p["key_id"] == self._ledger_key_id(),
            "REG-6",
            "the ledger's own key is rotated by re-initialising, not by revocation",
            key_id=p["key_id"],
        )

    def _decide_grant(self, p: Mapping[str, Any]) -> None:
        _refuse_if(
            p["actor_id"] not in self.actors,
            "REG-3",
            "actor is not registered",
            actor_id=p["actor_id"],
        )
        _refuse_if(
            p["org_id"] not in self.organisations,
            "REG-3",
            "organisation is not registered",
            org_id=p["org_id"],
        )
        _refuse_if(
            (p["actor_id"], p["role"], p["org_id"]) in self.grants,
            "REG-7",
            "role already granted",
            actor_id=p["actor_id"],
            role=p["role"],
            org_id=p["org_id"],
        )

    def _decide_role_revocation(self, p: Mapping[str, Any]) -> None:
        _refuse_if(
            (p["actor_id"], p["role"], p["org_id"]) not in self.grants,
            "REG-8",
            "no such role grant to revoke",
            actor_id=p["actor_id"],
            role=p["role"],
            org_id=p["org_id"],
        )

    def _ledger_key_id(self) -> str | None:
        for record in self.keys.values():
            if record.actor_id == "ledger":
                return record.key_id
        return None

    # ------------------------------------------------------------------ evolution

    def apply(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        position: int,
        *,
        derived_key_ids: Mapping[str, str],
    ) -> None:
        """Fold one registry event recorded at ``position`` into the state.

        ``derived_key_ids`` maps base64 public keys to their key ids, computed by the caller
        (the domain does not hash). Needed only for ``LedgerInitialised``.
        """
        self.version += 1
        if event_type == "LedgerInitialised":
            self._apply_genesis(payload, position, derived_key_ids)
        elif event_type == "OrganisationRegistered":
            self.organisations[payload["org_id"]] = Organisation(
                payload["org_id"], payload["kind"], payload["parent_org_id"], payload["name"]
            )
        elif event_type == "ActorRegistered":
            self.actors[payload["actor_id"]] = Actor(
                payload["actor_id"], payload["org_id"], payload["kind"], payload["person_ref"]
            )
        elif event_type == "SigningKeyRegistered":
            self.keys[payload["key_id"]] = KeyRecord(
                payload["key_id"], payload["public_key"], payload["actor_id"], position
            )
        elif event_type == "SigningKeyRevoked":
            record = self.keys[payload["key_id"]]
            record.revoked_at = position
            record.revocation_reason = payload["reason"]
        elif event_type == "ActorRoleGranted":
            key = (payload["actor_id"], payload["role"], payload["org_id"])
            self.grants[key] = Grant(*key, payload["include_descendants"], position)
        elif event_type == "ActorRoleRevoked":
            del self.grants[(payload["actor_id"], payload["role"], payload["org_id"])]

    def _apply_genesis(
        self, p: Mapping[str, Any], position: int, derived_key_ids: Mapping[str, str]
    ) -> None:
        self.origin = p["origin"]
        self.ledger_public_key = p["ledger_public_key"]
        root = Organisation(p["root_org_id"], "GOVERNMENT", None, p["root_org_name"])
        self.organisations[root.org_id] = root
        self.actors["ledger"] = Actor("ledger", root.org_id, "SYSTEM")
        self.actors[p["admin_actor_id"]] = Actor(p["admin_actor_id"], root.org_id, "PERSON")
        ledger_key_id = derived_key_ids[p["ledger_public_key"]]
        admin_key_id = derived_key_ids[p["admin_public_key"]]
        # The genesis event is signed by the admin key it introduces: that key is valid *at*
        # position 0 (registered_at = -1), every later key only after its registration.
        self.keys[ledger_key_id] = KeyRecord(ledger_key_id, p["ledger_public_key"], "ledger", -1)
        self.keys[admin_key_id] = KeyRecord(
            admin_key_id, p["admin_public_key"], p["admin_actor_id"], -1
        )
        grant = Grant(p["admin_actor_id"], REGISTRY_ADMIN, root.org_id, True, position)
        self.grants[(grant.actor_id, grant.role, grant.org_id)] = grant


def _refuse_if(condition: bool, code: str, detail: str, **evidence: Any) -> None:
    if condition:
        raise RuleViolation(detail, code=code, **evidence)


_DECISIONS = {
    "OrganisationRegistered": Registry._decide_org,
    "ActorRegistered": Registry._decide_actor,
    "SigningKeyRegistered": Registry._decide_key,
    "SigningKeyRevoked": Registry._decide_revocation,
    "ActorRoleGranted": Registry._decide_grant,
    "ActorRoleRevoked": Registry._decide_role_revocation,
}
