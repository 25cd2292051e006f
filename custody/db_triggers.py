"""Database triggers that make the ledger's tables append-only (DESIGN invariant 2).

Installed by migrations (``custody.0002`` for events, ``custody.0004`` for transformations and
lot links, ``custody.0010`` for the visibility record and the feed entries, ``custody.0011`` for
the transparency log, and TRUNCATE on all of them; ``custody.0012`` for the certification
acceptances, ``custody.0013`` for the origin policies' versions, ``custody.0015`` for the
certificates of origin and their acts; ``custody.0017`` installs the events' again, which
SQLite's table rebuild of that migration drops). A refused UPDATE, DELETE or (on
PostgreSQL) TRUNCATE raises an integrity error whose message starts with ``custody ledger is
append-only``. The tests lift them for their flush alone (tests/conftest.py). An owner can still
disable a trigger: what is then deleted or rewritten, the transparency log names
(``verify_ledger``).

``custody.0011`` also installs the log's entries: a trigger that copies every event inserted
(its id and hash) for the log's integrator (``install_log_queue``), in the inserting
transaction; ``custody.0014`` moved the log into tiles.
"""

EVENTS = "custody_custodyevent"
TRANSFORMATIONS = "custody_transformation"
LOT_LINKS = "custody_lotlink"
VISIBILITY = "custody_lotvisibility"
FEED_ENTRIES = "custody_feedentry"
LOG_ENTRIES = "custody_logentry"
LOG_RUNS = "custody_logrun"
LOG_TILES = "custody_logtile"
LOG_BATCHES = "custody_logbatch"
LOG_CHECKPOINTS = "custody_logcheckpoint"
LOG_TABLES = (LOG_ENTRIES, LOG_RUNS, LOG_TILES, LOG_BATCHES, LOG_CHECKPOINTS)
ACCEPTANCES = "custody_certificationacceptance"
POLICY_VERSIONS = "custody_originpolicyversion"
CERTIFICATES = "custody_certificate"
CERTIFICATE_ACTS = "custody_certificateact"
APPEND_ONLY_TABLES = (
    *(EVENTS, TRANSFORMATIONS, LOT_LINKS, VISIBILITY, FEED_ENTRIES),
    *LOG_TABLES,
    ACCEPTANCES,
    POLICY_VERSIONS,
    CERTIFICATES,
    CERTIFICATE_ACTS,
)
MESSAGE = "custody ledger is append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused on %.id = %', TG_OP, TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION custody_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: TRUNCATE refused on %', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _postgres_install(table: str, truncate: bool) -> list[str]:
    statements = [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION custody_append_only();"""
    ]
    if truncate:
        statements.append(
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION custody_no_truncate();"""
        )
    return statements


def _postgres_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def _sqlite_install(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()}
        BEFORE {operation} ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused on {table}'); END;"""
        for operation in ("UPDATE", "DELETE")
    ]


def install(connection, tables=APPEND_ONLY_TABLES, truncate: bool = True) -> None:
    """Install the triggers on ``tables``; ``truncate=False`` leaves TRUNCATE allowed (as
    before migration 0011, which a reversal of it restores)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
            for table in tables:
                for statement in [*_postgres_drop(table), *_postgres_install(table, truncate)]:
                    cursor.execute(statement)
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
                for statement in _postgres_drop(table):
                    cursor.execute(statement)
            else:
                for operation in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


POSTGRES_QUEUE = f"""
CREATE OR REPLACE FUNCTION custody_log_enqueue() RETURNS trigger AS $$
BEGIN
    INSERT INTO {LOG_ENTRIES} (id, hash) SELECT id, hash FROM inserted;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {EVENTS}_log_enqueue ON {EVENTS};
CREATE TRIGGER {EVENTS}_log_enqueue AFTER INSERT ON {EVENTS}
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION custody_log_enqueue();
"""
SQLITE_QUEUE = f"""
CREATE TRIGGER IF NOT EXISTS {EVENTS}_log_enqueue AFTER INSERT ON {EVENTS}
BEGIN INSERT INTO {LOG_ENTRIES} (id, hash) VALUES (NEW.id, NEW.hash); END;
"""


def install_log_queue(connection) -> None:
    """Copy every event inserted for the log, in the inserting transaction: one statement per
    INSERT on PostgreSQL (a statement trigger over the inserted rows), a row on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_QUEUE)
        else:
            cursor.execute(SQLITE_QUEUE)


def drop_log_queue(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {EVENTS}_log_enqueue ON {EVENTS}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {EVENTS}_log_enqueue")
