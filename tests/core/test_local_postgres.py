"""The checkout's own PostgreSQL server (make run / make test without DATABASE_URL)."""

import subprocess
import sys

import psycopg

from couponhub import local_postgres


def _connect(entry):
    return psycopg.connect(
        dbname=entry["NAME"], user=entry["USER"], host=entry["HOST"], port=entry["PORT"]
    )


def test_the_server_starts_in_its_folder_keeps_its_data_and_stops(tmp_path):
    var = tmp_path / "var"
    entry = local_postgres.local_database(var)
    try:
        assert entry["ENGINE"] == "django.db.backends.postgresql"
        assert entry["HOST"] == str((var / "postgres").resolve())  # a socket there, no TCP host
        with _connect(entry) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
            listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        assert listen == ""
        assert local_postgres.stop(var) is True
        assert not (var / "postgres" / "postmaster.pid").exists()
        assert local_postgres.stop(var) is False

        # the next run (a new process, as `make run` after Ctrl-C) starts it on the same data
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"from couponhub import local_postgres as l; from pathlib "
                f"import Path; l.local_database(Path({str(var)!r}))",
            ],
            check=True,
            timeout=60,
        )
        with _connect(entry) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (7,)
    finally:
        local_postgres.stop(var)


def test_a_url_for_child_processes_names_the_socket_folder():
    entry = {"USER": "postgres", "PASSWORD": "", "HOST": "/srv/x y/pg", "PORT": "5432", "NAME": "c"}
    assert local_postgres.database_url(entry) == "postgres://postgres@%2Fsrv%2Fx%20y%2Fpg:5432/c"
