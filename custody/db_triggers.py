"""Database triggers that make the ledger's tables append-only (DESIGN invariant 2).

Installed by migrations (``custody.0002`` for events, ``custody.0004`` for transformations and
lot links, ``custody.0010`` for the visibility record and the feed entries, ``custody.0012`` for
the certification acceptances). A refused UPDATE or
DELETE raises an integrity error whose message starts with ``custody ledger is append-only``.
TRUNCATE is not blocked: it is an owner's maintenance tool (and what Django's test flush uses on
PostgreSQL).
"""

EVENTS = "custody_custodyevent"
TRANSFORMATIONS = "custody_transformation"
LOT_LINKS = "custody_lotlink"
VISIBILITY = "custody_lotvisibility"
FEED_ENTRIES = "custody_feedentry"
ACCEPTANCES = "custody_certificationacceptance"
APPEND_ONLY_TABLES = (EVENTS, TRANSFORMATIONS, LOT_LINKS, VISIBILITY, FEED_ENTRIES, ACCEPTANCES)
MESSAGE = "custody ledger is append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused on %.id = %', TG_OP, TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _postgres_install(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION custody_append_only();
"""


def _sqlite_install(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()}
        BEFORE {operation} ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused on {table}'); END;"""
        for operation in ("UPDATE", "DELETE")
    ]


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
            for table in tables:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(_postgres_install(table))
        elif connection.vendor == "sqlite":
            for table in tables:
                for statement in _sqlite_install(table):
                    cursor.execute(statement)
        else:
            raise NotImplementedError(f"No append-only trigger for {connection.vendor}.")


def drop(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            else:
                for operation in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
