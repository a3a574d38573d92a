"""A throwaway PostgreSQL cluster for the test suite (OUTREACH_TEST_DATABASE=postgresql).

Debian's `postgresql` package (installed by `scripts/setup --test`) gives the server. `initdb`
refuses to run as root, so as root the cluster is made with Debian's `pg_createcluster` and
`pg_ctlcluster`, which run the server as the `postgres` user (DESIGN §9); as anyone else with
`initdb` and `pg_ctl` directly. Either way it lives in a temporary folder, listens on 127.0.0.1
on a port chosen here, trusts local connections (nothing else can reach it), runs without fsync
(a crash loses only test data), and is removed at the end of the run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from itertools import count

import psycopg
from psycopg import sql

# Durability is not what the tests check, and it is most of the time of a small write.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "ssl": "off",
        "listen_addresses": "127.0.0.1", "max_connections": "200", "shared_buffers": "64MB"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _newest_version() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda path: int(path.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run ./scripts/setup --test")
    return found[-1].split("/")[4]


class ThrowawayCluster:
    """A PostgreSQL server for one test run, and a fresh database per test."""

    def __init__(self) -> None:
        self.version = _newest_version()
        self.port = _free_port()
        self.folder = tempfile.mkdtemp(prefix="outreach-pg-")
        self.name = f"outreach_test_{os.getpid()}"
        self.as_root = os.getuid() == 0
        self._numbers = count(1)
        # The server runs as `postgres` when started as root: it must reach its folder.
        os.chmod(self.folder, 0o755)
        sockets = f"{self.folder}/sockets"
        os.mkdir(sockets)
        if self.as_root:
            shutil.chown(sockets, "postgres")
            self._drop_stale_clusters()
            subprocess.run(
                ["pg_createcluster", self.version, self.name, "-d", f"{self.folder}/data",
                 "-s", sockets, "-p", str(self.port), "--",
                 "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync"],
                check=True, capture_output=True)
            subprocess.run(["pg_ctlcluster", "-o", self._options(), self.version, self.name,
                            "start"], check=True, capture_output=True)
        else:
            binaries = f"/usr/lib/postgresql/{self.version}/bin"
            subprocess.run(
                [f"{binaries}/initdb", "-D", f"{self.folder}/data", "--auth=trust",
                 "--username=postgres", "--encoding=UTF8", "--no-sync"],
                check=True, capture_output=True)
            subprocess.run(
                [f"{binaries}/pg_ctl", "-D", f"{self.folder}/data", "-w", "-l",
                 f"{self.folder}/server.log", "-o",
                 f"-p {self.port} -k {sockets} {self._options()}", "start"],
                check=True, capture_output=True)
        self._wait_ready()

    @staticmethod
    def _options() -> str:
        return " ".join(f"-c {key}={value}" for key, value in FAST.items())

    def _drop_stale_clusters(self) -> None:
        # A run stopped at once (a killed CI job) leaves its cluster registered with Debian.
        for config in glob.glob(f"/etc/postgresql/{self.version}/outreach_test_*"):
            pid = config.rsplit("_", 1)[-1]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                subprocess.run(["pg_dropcluster", "--stop", self.version, os.path.basename(config)],
                               capture_output=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               dbname="postgres", autocommit=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self._connect().close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create(self, template: str | None = None) -> str:
        """Make a new database (a copy of `template` if given) and return its name."""
        name = f"test_{next(self._numbers)}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            # A small template is copied file by file faster than through the WAL.
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template))
        with self._connect() as connection:
            connection.execute(query)
        return name

    def drop(self, name: str) -> None:
        """Remove a database, closing whatever a test left connected to it."""
        with self._connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def stop(self) -> None:
        """Stop the server and remove everything it wrote."""
        if self.as_root:
            subprocess.run(["pg_dropcluster", "--stop", self.version, self.name],
                           capture_output=True)
        else:
            subprocess.run([f"/usr/lib/postgresql/{self.version}/bin/pg_ctl", "-D",
                            f"{self.folder}/data", "-m", "immediate", "stop"],
                           capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
