"""An upload's rows staged in a temporary table: the piece the imports share.

An import reads its file as it streams (`spreadsheets.read_rows`), checks each row on its own in
Python, and copies it, good or bad, into a temporary table with `COPY … FROM STDIN`, a chunk at a
time. What needs every row at once — duplicates within the file, values the database already
has, the order of the new rows — is then asked of PostgreSQL, and the rows to write go in with one
`INSERT … SELECT`. The bad rows are read back through a server-side cursor, so no part of the
file, good or bad, is held in Python whatever its size.

Everything here runs inside the caller's transaction (the table is `ON COMMIT DROP`); the caller
looks for a cancel after each chunk (`after_chunk`), never writes its job's row meanwhile.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from django.db import connection

STAGE_CHUNK_ROWS = 20_000
# Rows fetched at a time from a server-side cursor.
FETCH_ROWS = 2_000


def stage_rows(
    *,
    table: str,
    columns: Sequence[str],
    records: Iterable[tuple],
    later_columns: Sequence[str] = (),
    chunk_rows: int = STAGE_CHUNK_ROWS,
    after_chunk: Callable[[int], None] | None = None,
) -> int:
    """Create the temporary table `table` (`columns`: its column definitions, "name type" each,
    in the order of the records' values; `later_columns`: more, that the caller fills in SQL),
    COPY `records` into it `chunk_rows` at a time (`after_chunk(rows so far)` after each),
    refresh its planner statistics and return how many rows it holds. Call inside a
    transaction."""
    records = iter(records)
    total = 0
    with connection.cursor() as cursor:
        definitions = ", ".join([*columns, *later_columns])
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definitions}) ON COMMIT DROP")
        names = ", ".join(c.split()[0] for c in columns)
        while True:
            before = total
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for record in islice(records, chunk_rows):
                    copy.write_row(record)
                    total += 1
            if after_chunk is not None:
                after_chunk(total)
            if total - before < chunk_rows:
                break
        cursor.execute(f"ANALYZE {table}")
    return total


def drop_staging(table: str) -> None:
    """Drop the table now (an import run inside a caller's longer transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def stream_rows(sql: str, params: dict | list | None = None) -> Iterator[tuple]:
    """The rows of a query, fetched FETCH_ROWS at a time through a server-side cursor (inside
    the caller's transaction), so a query over a million staged rows is never held at once."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield from rows
