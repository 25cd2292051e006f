"""Database triggers that keep the history of reference data append-only.

Installed by migration ``recyclers.0004`` on PostgreSQL: an UPDATE or DELETE of a history row
raises an integrity error whose message starts with ``reference data history is append-only``.
(The events' triggers in ``custody.db_triggers`` follow the same pattern; ``recyclers`` imports
nothing of ``custody``, so it has its own.) On SQLite the history is append-only in code: the
admin shows it and offers no way to change or delete it.
"""

HISTORY_TABLES = (
    "recyclers_historicalorganization",
    "recyclers_historicalorganization_roles",
    "recyclers_historicalfacility",
    "recyclers_historicalcertification",
    "recyclers_historicalmembership",
)
MESSAGE = "reference data history is append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION recyclers_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def install(connection, tables=HISTORY_TABLES) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES_FUNCTION)
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION recyclers_history_append_only()"
            )


def drop(connection, tables=HISTORY_TABLES) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
