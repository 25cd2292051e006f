"""The canonical serialization of a custody event and its hash.

Version 1, stable; anyone holding an event's fields can recompute its hash:

* The content is a JSON object with exactly these keys: ``v`` (1), ``uuid``, ``lot`` (the lot
  code), ``seq``, ``kind``, ``occurred_at``, ``recorded_at``, ``actor_organization``,
  ``actor_user``, ``actor_api_key``, ``facility``, ``counterparty_facility`` (database ids or
  null), ``mass_kg``, ``details``, ``evidence``, ``corrects`` (uuid of the corrected event or
  null) and ``prev_hash``.
* Times are UTC, ISO 8601 with a four-digit year, six fraction digits and a ``Z``:
  ``2026-11-27T16:55:02.000000Z``, ``0999-06-01T12:00:00.000000Z``.
* Masses are decimal strings with exactly three decimals (grams): ``"1250.500"``.
* ``details`` and ``evidence`` hold only strings, integers, booleans, null, lists and objects;
  floats are refused, so what PostgreSQL's jsonb hands back is what was hashed.
* Integers fit in 64 bits (signed).
* Serialized with sorted keys, no whitespace (``,`` and ``:``), UTF-8, non-ASCII kept as is:
  byte for byte what Python's ``json.dumps(content, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False).encode()`` gives. The ledger computes it with orjson, four times faster
  (a property test holds the two equal).
* ``hash = sha256(serialization).hexdigest()``; the first event's ``prev_hash`` is 64 zeros.
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson

CANONICAL_VERSION = 1
INT64 = range(-(2**63), 2**63)
# Deeper than this is refused, well before Python's recursion limit or orjson's (255 levels).
MAX_NESTING = 64
GRAMS = Decimal("0.001")


class NotCanonical(ValueError):
    """A value that the ledger cannot hash reproducibly."""


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise NotCanonical("naive datetime")
    # Not strftime: its %Y gives "999" for the year 999 on Linux, where PostgreSQL's to_char
    # (the verifier's) gives "0999". isoformat pads the year to four digits and, with
    # timespec, always writes the six fraction digits.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_mass(mass: Decimal | None) -> str | None:
    if mass is None:
        return None
    return f"{Decimal(mass).quantize(GRAMS):f}"


def ledger_json(value, _depth: int = 0):
    """Turn a value into what the ledger stores and hashes in ``details``.

    Decimals become mass-style strings, datetimes UTC strings, dates ISO strings, tuples lists.
    Floats, NUL characters and lone surrogates are refused: jsonb would change or reject them;
    so are objects and lists nested more than ``MAX_NESTING`` levels.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value not in INT64:
            raise NotCanonical("integer does not fit in 64 bits")
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise NotCanonical("text contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NotCanonical("text is not valid Unicode") from exc
        return value
    if isinstance(value, Decimal):
        return format_mass(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple) and _depth >= MAX_NESTING:
        raise NotCanonical(f"nested deeper than {MAX_NESTING} levels")
    if isinstance(value, Mapping):
        return {str(ledger_json(key)): ledger_json(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [ledger_json(item, _depth + 1) for item in value]
    raise NotCanonical(f"{type(value).__name__} is not allowed in the ledger")


def canonical_bytes(content: Mapping) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def event_content(
    *,
    uuid,
    lot_code: str,
    seq: int,
    kind: str,
    occurred_at: datetime,
    recorded_at: datetime,
    actor_organization_id: int,
    actor_user_id: int | None,
    actor_api_key: str,
    facility_id: int | None,
    counterparty_facility_id: int | None,
    mass_kg: Decimal | None,
    details,
    evidence,
    corrects_uuid,
    prev_hash: str,
) -> dict:
    """The content that is hashed, from an event's fields as Python values."""
    return formatted_content(
        uuid=str(uuid),
        lot_code=lot_code,
        seq=seq,
        kind=kind,
        occurred_at=format_time(occurred_at),
        recorded_at=format_time(recorded_at),
        actor_organization_id=actor_organization_id,
        actor_user_id=actor_user_id,
        actor_api_key=actor_api_key or None,
        facility_id=facility_id,
        counterparty_facility_id=counterparty_facility_id,
        mass_kg=format_mass(mass_kg),
        details=details,
        evidence=evidence,
        corrects_uuid=str(corrects_uuid) if corrects_uuid else None,
        prev_hash=prev_hash,
    )


def formatted_content(
    *,
    uuid: str,
    lot_code: str,
    seq: int,
    kind: str,
    occurred_at: str,
    recorded_at: str,
    actor_organization_id: int,
    actor_user_id: int | None,
    actor_api_key: str | None,
    facility_id: int | None,
    counterparty_facility_id: int | None,
    mass_kg: str | None,
    details,
    evidence,
    corrects_uuid: str | None,
    prev_hash: str,
) -> dict:
    """The content that is hashed, from values already in their canonical text form (as the
    database can hand them over, which spares the verifier a parse and a format per value)."""
    return {
        "v": CANONICAL_VERSION,
        "uuid": uuid,
        "lot": lot_code,
        "seq": seq,
        "kind": kind,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor_organization": actor_organization_id,
        "actor_user": actor_user_id,
        "actor_api_key": actor_api_key,
        "facility": facility_id,
        "counterparty_facility": counterparty_facility_id,
        "mass_kg": mass_kg,
        "details": details,
        "evidence": evidence,
        "corrects": corrects_uuid,
        "prev_hash": prev_hash,
    }


def content_hash(content: Mapping) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def hash_event(event) -> str:
    """The hash of a ``CustodyEvent`` instance (its ``lot`` and ``corrects`` loaded)."""
    return content_hash(
        event_content(
            uuid=event.uuid,
            lot_code=event.lot.code,
            seq=event.seq,
            kind=event.kind,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            actor_organization_id=event.actor_organization_id,
            actor_user_id=event.actor_user_id,
            actor_api_key=event.actor_api_key_prefix,
            facility_id=event.facility_id,
            counterparty_facility_id=event.counterparty_facility_id,
            mass_kg=event.mass_kg,
            details=event.details,
            evidence=event.evidence,
            corrects_uuid=event.corrects.uuid if event.corrects_id else None,
            prev_hash=event.prev_hash,
        )
    )
