"""Database triggers that make the events table append-only (DESIGN invariant 2).

Installed by migration ``custody.0002``. A refused UPDATE or DELETE raises an integrity error
whose message starts with ``custody events are append-only``. TRUNCATE is not blocked: it is an
owner's maintenance tool (and what Django's test flush uses on PostgreSQL).
"""

EVENTS_TABLE = "custody_custodyevent"
MESSAGE = "custody events are append-only"

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION custody_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused on event %', TG_OP, OLD.uuid
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER custody_event_append_only
    BEFORE UPDATE OR DELETE ON {EVENTS_TABLE}
    FOR EACH ROW EXECUTE FUNCTION custody_event_append_only();
"""
POSTGRES_DROP = f"""
DROP TRIGGER IF EXISTS custody_event_append_only ON {EVENTS_TABLE};
DROP FUNCTION IF EXISTS custody_event_append_only();
"""

SQLITE_TRIGGERS = ("custody_event_no_update", "custody_event_no_delete")
SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS custody_event_no_{operation.lower()}
    BEFORE {operation} ON {EVENTS_TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END;"""
    for operation in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS]


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_INSTALL:
                cursor.execute(statement)
        else:
            raise NotImplementedError(f"No append-only trigger for {connection.vendor}.")


def drop(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        else:
            for statement in SQLITE_DROP:
                cursor.execute(statement)
