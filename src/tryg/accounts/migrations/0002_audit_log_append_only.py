"""The audit log refuses edits in the database too, not only in Python.

An UPDATE of an event's content (time, actor name, action, object, details) is refused by a
trigger on SQLite and PostgreSQL. ``actor_id`` stays updatable: deleting a user sets it to
NULL (``actor_name`` keeps the name). On PostgreSQL a row DELETE is refused as well; on SQLite
it is not, because Django empties tables with DELETE when a test database is reset (PostgreSQL
uses TRUNCATE, which row triggers do not see). Written by hand: not a model change.
"""

from typing import Any

from django.db import migrations

_CONTENT = "at, actor_name, action, target, details"

_SQLITE_UP = [
    f"""CREATE TRIGGER accounts_auditevent_no_update
    BEFORE UPDATE OF {_CONTENT} ON accounts_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]
_SQLITE_DOWN = ["DROP TRIGGER IF EXISTS accounts_auditevent_no_update;"]

_POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION accounts_auditevent_locked() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER accounts_auditevent_no_update
    BEFORE UPDATE OF {_CONTENT} ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_locked();""",
    """CREATE TRIGGER accounts_auditevent_no_delete
    BEFORE DELETE ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_locked();""",
]
_POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_delete ON accounts_auditevent;",
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_update ON accounts_auditevent;",
    "DROP FUNCTION IF EXISTS accounts_auditevent_locked();",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": _SQLITE_UP, "postgresql": _POSTGRES_UP}),
            _run({"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRES_DOWN}),
        ),
    ]
