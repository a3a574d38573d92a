"""A Python client of sync protocol v1 with a local SQLite outbox (DESIGN §3, §4).

What a field laptop, the tests and the benchmarks use. A record is written to the local outbox
first; `push()` sends the outbox in batches and a record leaves it only once the server has
answered for it. Rejected and conflicting records move to the local "à corriger" table.

    python -m sync.client --server https://ccas.example login marie
    python -m sync.client record maraude.rencontre '{"lieu": {...}, "niveau": "anonyme", ...}'
    python -m sync.client push
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import requests
import sqlite_utils
from sqlite_utils.db import NotFoundError

from .protocol import MAX_RECORDS, STATUSES

T = TypeVar("T")
TO_FIX = ("rejected", "conflict")
RECORD_KEYS = ("id", "form", "form_version", "recorded_at", "parent_id", "base_revision", "data")
NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# Busy or restarting servers and proxies answer these; the request is worth sending again.
RETRIED_STATUSES = frozenset({408, 425, 429})
LOGIN_AGAIN = "Session expirée : reconnectez-vous."
MAX_PULL_PAGES = 10_000
TABLES: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "device": ({"id": str}, "id"),
    "outbox": ({"seq": int, "id": str, "form": str, "form_version": int, "recorded_at": str,
                "parent_id": str, "base_revision": int, "data": str}, "seq"),
    "a_corriger": ({"id": str, "form": str, "form_version": int, "recorded_at": str,
                    "parent_id": str, "base_revision": int, "data": str, "status": str,
                    "errors": str, "revision": int}, "id"),
    "forms": ({"key": str, "version": int, "definition": str}, ("key", "version")),
    "reference": ({"key": str, "items": str}, "key"),
    "people": ({"id": str, "revision": int, "data": str}, "id"),
    "state": ({"key": str, "value": str}, "key"),
}


class SyncError(Exception):
    """A sync that could not be done; the message is French, for the person at the keyboard."""


class LoginRequired(SyncError):
    """No valid session on the server: log in again (the outbox is kept)."""


class SyncFailed(SyncError):
    """The server could not be reached, or refused the call; the outbox is kept."""


class _Transient(Exception):
    """A failure worth retrying: the network, a busy server, an answer that makes no sense."""


class OutreachClient:
    """A tablet's point of view in Python: a local outbox, a session, push and pull.

    One client per thread: its SQLite connection belongs to the thread that made it.
    """

    def __init__(self, server_url: str, outbox_path: str | os.PathLike,
                 device_id: str | None = None, batch_size: int = 500, max_attempts: int = 8,
                 backoff_base: float = 0.2, backoff_cap: float = 5.0,
                 timeout: float = 30) -> None:
        if not 1 <= batch_size <= MAX_RECORDS:
            raise ValueError(f"batch_size must be between 1 and {MAX_RECORDS}")
        self.server_url = server_url.rstrip("/")
        self.batch_size, self.max_attempts, self.timeout = batch_size, max(1, max_attempts), timeout
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.random = random.Random()
        self.db = sqlite_utils.Database(outbox_path)
        for name, (columns, pk) in TABLES.items():
            self.db.table(name).create(columns, pk=pk, if_not_exists=True)
        self.db.table("outbox").create_index(["id"], unique=True, if_not_exists=True)
        self.device_id = self._device_id(device_id)
        self.http = requests.Session()
        self.csrf_token: str | None = None
        self._load_session()

    # Local outbox -------------------------------------------------------------------------------

    def record(self, form: str, data: dict, *, form_version: int = 1, parent_id: str | None = None,
               record_id: str | None = None, base_revision: int | None = None,
               recorded_at: str | None = None) -> str:
        """Write one record to the outbox; return its id."""
        if not isinstance(data, dict):
            raise TypeError("data must be a dict (the form's answers)")
        row = {
            "id": str(uuid.UUID(record_id)) if record_id else str(uuid.uuid4()),
            "form": form, "form_version": form_version,
            "recorded_at": recorded_at or datetime.now(UTC).isoformat(timespec="milliseconds"),
            "parent_id": str(uuid.UUID(parent_id)) if parent_id else None,
            "base_revision": base_revision, "data": json.dumps(data, ensure_ascii=False),
        }
        # An edit of a record not sent yet replaces it: the server never saw the older content.
        self.db.table("outbox").insert(row, replace=True)
        return row["id"]

    def pending(self) -> int:
        """Count the records waiting in the outbox."""
        return self.db.table("outbox").count

    def status(self) -> dict:
        """Describe the outbox: waiting and to-correct counts, last sync, owner, device."""
        owner = self._state("owner") or {}
        return {"pending": self.pending(), "a_corriger": self.db.table("a_corriger").count,
                "last_sync": self._state("last_sync"), "owner": owner.get("login"),
                "device_id": self.device_id}

    def to_fix(self) -> list[dict]:
        """List the records to correct ("à corriger"): each record with its status and errors."""
        rows = self.db.table("a_corriger").rows_where(order_by="rowid")
        return [{**row, "data": json.loads(row["data"]), "errors": json.loads(row["errors"])}
                for row in rows]

    def fix(self, record_id: str, data: dict | None = None) -> None:
        """Put a record to correct back in the outbox, with corrected data, to send again."""
        row = self.db.table("a_corriger").get(record_id)
        # A conflict is settled against the server's current revision, which the result gave.
        base = row["revision"] if row["status"] == "conflict" else row["base_revision"]
        with self.db.atomic():
            self.db.table("a_corriger").delete(record_id)
            self.record(row["form"], json.loads(row["data"]) if data is None else data,
                        form_version=row["form_version"], parent_id=row["parent_id"],
                        record_id=row["id"], base_revision=base, recorded_at=row["recorded_at"])

    def people(self) -> list[dict]:
        """List the people kept offline by the last pulls."""
        return [{**row, "data": json.loads(row["data"])}
                for row in self.db.table("people").rows_where(order_by="id")]

    # Session ------------------------------------------------------------------------------------

    def login(self, login: str, password: str) -> dict:
        """Open a session on the server; return the user it belongs to."""
        body = self._retrying(partial(self._open_session, login, password))
        self._claim_outbox(body["user"])
        self.csrf_token = body["csrf_token"]
        self._save_session()
        return body["user"]

    def refresh_token(self) -> str:
        """Fetch a fresh CSRF token for this session (tokens expire: do it before a replay)."""
        body = self._retrying(lambda: _json(self._exchange("GET", "/api/v1/session")))
        self.csrf_token = body["csrf_token"]
        return self.csrf_token

    def logout(self) -> None:
        """Close the session on the server and forget it here."""
        try:
            self.refresh_token()
            self._retrying(partial(self._exchange, "DELETE", "/api/v1/session"))
        except LoginRequired:
            pass  # already closed on the server: there is only the local copy to forget
        self.http.cookies.clear()
        self.csrf_token = None
        self.db.table("state").delete_where("key = ?", ["session"])

    # Push ---------------------------------------------------------------------------------------

    def push(self) -> dict[str, int]:
        """Send the outbox in batches, oldest first; return how many records got each status."""
        counts = dict.fromkeys(STATUSES, 0)
        waiting = self.pending()
        if not waiting:
            return counts
        self.refresh_token()
        # Bounded by what waited at the start: what another process writes meanwhile goes next.
        for _ in range(math.ceil(waiting / self.batch_size)):
            batch = list(self.db.table("outbox").rows_where(order_by="seq",
                                                            limit=self.batch_size))
            if not batch:
                break
            results = self._retrying(partial(self._send_batch, batch))
            self._settle(batch, results)
            for result in results:
                counts[result["status"]] += 1
        self._synced()
        return counts

    def _send_batch(self, batch: list[dict]) -> list[dict]:
        """Push one batch once; return its results in the batch's order."""
        records = [{**{key: row[key] for key in RECORD_KEYS}, "data": json.loads(row["data"])}
                   for row in batch]
        body = {"device_id": self.device_id, "records": records}
        return _matched(batch, _json(self._exchange("POST", "/api/v1/sync/push", json=body)))

    def _settle(self, batch: list[dict], results: list[dict]) -> None:
        """Apply a batch's results to the outbox: all of them or, on any error, none."""
        to_fix = [
            {**{key: row[key] for key in RECORD_KEYS}, "status": result["status"],
             "errors": json.dumps(result.get("errors") or {}, ensure_ascii=False),
             "revision": result.get("revision")}
            for row, result in zip(batch, results, strict=True) if result["status"] in TO_FIX
        ]
        with self.db.atomic():
            if to_fix:
                self.db.table("a_corriger").insert_all(to_fix, pk="id", replace=True)
            # By seq, not id: an edit written meanwhile has a new seq and must still be sent.
            self.db.execute("DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))",
                            [json.dumps([row["seq"] for row in batch])])

    # Pull ---------------------------------------------------------------------------------------

    def pull(self) -> dict[str, int]:
        """Fetch what this person may have offline since the last pull; return what came."""
        counts = {"forms": 0, "reference": 0, "people": 0, "deleted": 0}
        for _ in range(MAX_PULL_PAGES):
            cursor = self._state("cursor")
            page = self._retrying(partial(self._pull_page, cursor))
            self._store_page(page, full=cursor is None)
            counts["forms"] += len(page["forms"])
            counts["reference"] += len(page["reference"])
            counts["deleted"] += sum(1 for person in page["people"] if person.get("deleted"))
            counts["people"] += sum(1 for person in page["people"] if not person.get("deleted"))
            if not page["more"]:
                self._synced()
                return counts
            if page["cursor"] == cursor:
                raise SyncFailed("Le serveur renvoie toujours la même page : réception arrêtée.")
        raise SyncFailed("Trop de pages à recevoir : réception arrêtée.")

    def _pull_page(self, cursor: str | None) -> dict:
        """Fetch one page of the pull after the cursor (none: everything)."""
        params = {"device_id": self.device_id, **({"cursor": cursor} if cursor else {})}
        page = _json(self._exchange("GET", "/api/v1/sync/pull", params=params))
        kinds = {"forms": list, "reference": dict, "people": list, "cursor": str, "more": bool}
        if any(not isinstance(page.get(key), kind) for key, kind in kinds.items()):
            raise _Transient("réponse de réception incomplète")
        return page

    def _store_page(self, page: dict, full: bool) -> None:
        """Keep one page of the pull and its cursor together: a cut pull resumes where it was."""
        with self.db.atomic():
            if full:  # everything comes again: what is not sent any more must go
                self.db.table("people").delete_where()
            if page["forms"]:  # forms travel whole, and only when they changed
                self.db.table("forms").delete_where()
                self.db.table("forms").insert_all(
                    {"key": form["key"], "version": form["version"],
                     "definition": json.dumps(form, ensure_ascii=False)} for form in page["forms"])
            # Forms and lists come whole and together when either changed; a list may be gone.
            if page["forms"] or page["reference"]:
                self.db.table("reference").delete_where()
                self.db.table("reference").insert_all(
                    {"key": key, "items": json.dumps(items, ensure_ascii=False)}
                    for key, items in page["reference"].items())
            for person in page["people"]:
                self._store_person(person)
            self._put("cursor", page["cursor"])

    def _store_person(self, person: dict) -> None:
        """Keep one person, or drop it for a tombstone."""
        if person.get("deleted"):
            self.db.table("people").delete_where("id = ?", [person["id"]])
        else:
            self.db.table("people").insert(
                {"id": person["id"], "revision": person.get("revision"),
                 "data": json.dumps(person.get("data") or {}, ensure_ascii=False)},
                replace=True)

    # HTTP ---------------------------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run an attempt until it succeeds, with exponential backoff and full jitter."""
        last: _Transient | None = None
        for number in range(self.max_attempts):
            if number:
                # Full jitter: clients cut off together must not all come back together.
                time.sleep(self.random.uniform(0, min(self.backoff_cap,
                                                      self.backoff_base * 2 ** (number - 1))))
            try:
                return attempt()
            except _Transient as error:
                last = error
        raise SyncFailed(f"Serveur injoignable après {self.max_attempts} tentatives ({last}). "
                         "Les fiches restent dans la boîte d'envoi.")

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request as it is; network trouble becomes a transient failure."""
        headers = {"X-CSRFToken": self.csrf_token} if method != "GET" and self.csrf_token else {}
        try:
            return self.http.request(method, self.server_url + path, headers=headers,
                                     timeout=self.timeout, **kwargs)
        except NETWORK_ERRORS as error:
            raise _Transient(f"réseau : {type(error).__name__}") from error

    def _exchange(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one API call, with a fresh CSRF token once if it had expired; check the answer."""
        response = self._send(method, path, **kwargs)
        if method != "GET" and _error_code(response) == "csrf":
            self.refresh_token()
            response = self._send(method, path, **kwargs)
        return _checked(response)

    def _open_session(self, login: str, password: str) -> dict:
        """Post credentials once; a refusal is final, not worth retrying."""
        response = self._send("POST", "/api/v1/session",
                              json={"login": login, "password": password})
        if response.status_code in (401, 403, 429):
            raise LoginRequired(_error_message(response))
        body = _json(_checked(response))
        if not isinstance(body.get("user"), dict) or not isinstance(body.get("csrf_token"), str):
            raise _Transient("réponse de connexion incomplète")
        return body

    # Local state --------------------------------------------------------------------------------

    def _device_id(self, given: str | None) -> str:
        """Return this outbox's device id, made once and kept in the outbox."""
        if given:
            return str(uuid.UUID(given))
        kept = next(iter(self.db.table("device").rows), None)
        if kept:
            return kept["id"]
        made = str(uuid.uuid4())
        self.db.table("device").insert({"id": made})
        return made

    def _claim_outbox(self, user: dict) -> None:
        """Tie the outbox to the person logged in: records are sent in the name of the session."""
        owner = self._state("owner")
        if owner and owner["id"] != user["id"]:
            if self.pending() or self.db.table("a_corriger").count:
                self.http.cookies.clear()
                raise SyncFailed(f"Cette boîte d'envoi contient des fiches de {owner['login']} : "
                                 "elles attendent que cette personne se connecte.")
            # The next person must not see the previous person's working set.
            for name in ("people", "forms", "reference"):
                self.db.table(name).delete_where()
            self.db.table("state").delete_where("key = ?", ["cursor"])
        self._put("owner", {"id": user["id"], "login": user.get("login")})

    def _save_session(self) -> None:
        """Keep the session cookie, so that each command line call need not log in again."""
        cookies = requests.utils.dict_from_cookiejar(self.http.cookies)
        self._put("session", {"server": self.server_url, "cookies": cookies})

    def _load_session(self) -> None:
        """Reuse the session kept for this server, if any."""
        kept = self._state("session")
        if kept and kept["server"] == self.server_url:
            self.http.cookies.update(kept["cookies"])

    def _synced(self) -> None:
        """Note the time of the last successful sync, and the session as the server renewed it."""
        self._put("last_sync", datetime.now(UTC).isoformat(timespec="seconds"))
        self._save_session()

    def _state(self, key: str) -> Any:
        """Read one value of the local state (None when absent)."""
        try:
            return json.loads(self.db.table("state").get(key)["value"])
        except NotFoundError:
            return None

    def _put(self, key: str, value: Any) -> None:
        """Write one value of the local state."""
        self.db.table("state").insert({"key": key, "value": json.dumps(value)}, replace=True)


def _json(response: requests.Response) -> dict:
    """Return a 200 answer's JSON object; anything else was cut or mangled on the way."""
    try:
        body = response.json()
    except ValueError:
        raise _Transient("réponse qui n'est pas du JSON") from None
    if not isinstance(body, dict):
        raise _Transient("réponse qui n'est pas un objet JSON")
    return body


def _checked(response: requests.Response) -> requests.Response:
    """Return a 200 answer; retry a server error; refuse any other answer for good."""
    if response.status_code >= 500 or response.status_code in RETRIED_STATUSES:
        raise _Transient(f"HTTP {response.status_code}")
    if response.status_code == 401:
        raise LoginRequired(LOGIN_AGAIN)
    if response.status_code != 200:
        raise SyncFailed(f"Refusé par le serveur ({response.status_code}) : "
                         f"{_error_message(response)}")
    return response


def _matched(batch: list[dict], body: dict) -> list[dict]:
    """Return the results of a push in the batch's order; a mismatched answer is a failure."""
    results = body.get("results")
    if not isinstance(results, list) or len(results) != len(batch):
        raise _Transient("réponse d'envoi qui ne correspond pas au lot")
    by_id = {result.get("id"): result for result in results if isinstance(result, dict)}
    ids = [row["id"] for row in batch]
    if set(by_id) != set(ids) or any(by_id[i].get("status") not in STATUSES for i in ids):
        raise _Transient("réponse d'envoi qui ne correspond pas au lot")
    return [by_id[i] for i in ids]


def _error_code(response: requests.Response) -> str | None:
    """Return the `code` of a JSON error answer, if any."""
    if response.status_code != 400:
        return None
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


def _error_message(response: requests.Response) -> str:
    """Return the French message of an error answer."""
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


# Command line ---------------------------------------------------------------------------------

DESCRIPTION = """\
Outreach sync client: keep records in a local outbox (SQLite), send them to the server when the
network is there, and fetch what you need offline.

  login LOGIN         open a session (password: --password, OUTREACH_PASSWORD, or a prompt)
  record FORM DATA    write one record to the outbox (DATA: JSON text, @file.json, or - for stdin)
  push                send the outbox in batches; rejected or conflicting records go to
                      "à corriger"; nothing leaves the outbox before the server has it
  pull                fetch forms, reference lists and your people, after the last pull
  status              how many records wait, how many are to correct, last sync
  logout              close the session
"""


def _read_data(text: str) -> dict:
    """Read a record's data from JSON text, a @file or standard input."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        with open(text[1:], encoding="utf-8") as source:
            text = source.read()
    return json.loads(text)


def _login(client: OutreachClient, args: argparse.Namespace) -> dict:
    """Log in from the command line."""
    password = args.password or os.environ.get("OUTREACH_PASSWORD") or getpass.getpass(
        "Mot de passe : ")
    return {"user": client.login(args.login, password)}


def _record(client: OutreachClient, args: argparse.Namespace) -> dict:
    """Write a record from the command line."""
    return {"id": client.record(args.form, _read_data(args.data), form_version=args.form_version,
                                parent_id=args.parent, record_id=args.id,
                                base_revision=args.base_revision)}


COMMANDS: dict[str, Callable[[OutreachClient, argparse.Namespace], Any]] = {
    "login": _login,
    "record": _record,
    "push": lambda client, _args: client.push(),
    "pull": lambda client, _args: client.pull(),
    "status": lambda client, _args: client.status(),
    "logout": lambda client, _args: client.logout() or {"ok": True},
}


def _where_options(target: argparse.ArgumentParser, defaults: bool) -> None:
    """Add --server and --outbox (without defaults on subcommands, not to hide the main ones)."""
    server = os.environ.get("OUTREACH_SERVER", "http://127.0.0.1:5000")
    outbox = os.environ.get("OUTREACH_OUTBOX", "outreach-outbox.db")
    target.add_argument("--server", default=server if defaults else argparse.SUPPRESS,
                        help=f"server address (OUTREACH_SERVER; default {server})")
    target.add_argument("--outbox", default=outbox if defaults else argparse.SUPPRESS,
                        help=f"outbox file (OUTREACH_OUTBOX; default {outbox})")


def parser() -> argparse.ArgumentParser:
    """Build the command line parser."""
    main_parser = argparse.ArgumentParser(prog="python -m sync.client", description=DESCRIPTION,
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    _where_options(main_parser, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _where_options(common, defaults=False)
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    login = commands.add_parser("login", parents=[common], help="open a session")
    login.add_argument("login")
    login.add_argument("--password", help="else OUTREACH_PASSWORD, else a prompt")
    record = commands.add_parser("record", parents=[common], help="write a record to the outbox")
    record.add_argument("form", help="form key, e.g. maraude.rencontre")
    record.add_argument("data", help="the answers as JSON text, @file.json, or - for stdin")
    record.add_argument("--form-version", type=int, default=1)
    record.add_argument("--parent", help="id of the parent record (a rencontre's tournée)")
    record.add_argument("--id", help="id of the record to edit (default: a new record)")
    record.add_argument("--base-revision", type=int, help="revision the edit starts from")
    for name, text in (("push", "send the outbox"), ("pull", "fetch what you need offline"),
                       ("status", "count waiting and to-correct records"),
                       ("logout", "close the session")):
        commands.add_parser(name, parents=[common], help=text)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; print the result as JSON."""
    args = parser().parse_args(argv)
    client = OutreachClient(args.server, args.outbox)
    try:
        result = COMMANDS[args.command](client, args)
    except (SyncError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
