"""Row triggers written once for PostgreSQL and SQLite, for the migrations that keep figures with
them: each trigger is (name, table, event, condition, statements), the statements in the SQL both
databases share (``OLD``/``NEW`` rows, ``INSERT … SELECT … WHERE``)."""

from __future__ import annotations

from alembic import op

Trigger = tuple[str, str, str, str, list[str]]


def postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def differs(a: str, b: str) -> str:
    """``a`` and ``b`` differ, nulls compared as values."""
    return f"{a} {'IS DISTINCT FROM' if postgresql() else 'IS NOT'} {b}"


def bucket(column: str, seconds: int, sql_type: str = "integer") -> str:
    """The ``seconds``-long UTC bucket of a timestamp (seconds since the epoch // ``seconds``); on
    SQLite the column holds naive UTC text, which ``strftime`` reads as UTC."""
    if postgresql():
        return f"floor(extract(epoch FROM {column}) / {seconds})::{sql_type}"
    return f"CAST(strftime('%s', {column}) AS INTEGER) / {seconds}"


def create(triggers: list[Trigger]) -> None:
    """AFTER … FOR EACH ROW triggers (on PostgreSQL, each with its function of the same name)."""
    for name, table, event, condition, statements in triggers:
        body = "; ".join(statements)
        when = f"WHEN ({condition}) " if condition else ""
        if postgresql():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}BEGIN {body}; END")


def drop(triggers: list[Trigger]) -> None:
    for name, table, *_ in triggers:
        if postgresql():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
