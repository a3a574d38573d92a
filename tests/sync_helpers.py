"""Records and a JSON API client for sync tests (a tablet's point of view)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.conftest import PASSWORD


def rencontre(**data) -> dict:
    """Return valid data of a maraude.rencontre, with changes."""
    base = {"lieu": {"label": "Parvis de la gare", "lat": None, "lon": None},
            "niveau": "anonyme", "nombre_personnes": 2, "prestations": ["boisson_chaude"]}
    return {**base, **data}


def personne(**data) -> dict:
    """Return valid data of a personne (an alias), with changes."""
    return {"niveau": "alias", "alias_prenom": "Momo", **data}


def item(form: str = "maraude.rencontre", data: dict | None = None, **fields) -> dict:
    """Return one RECORD of the protocol, ready to push."""
    record = {
        "id": str(uuid.uuid4()),
        "form": form,
        "form_version": 1,
        "recorded_at": datetime(2026, 11, 20, 21, 30, tzinfo=UTC).isoformat(),
        "parent_id": None,
        "base_revision": None,
        "data": data if data is not None else (rencontre() if form == "maraude.rencontre"
                                                 else personne()),
    }
    record.update(fields)
    return record


class Tablet:
    """A JSON client of the API through Flask's test client: logs in, pushes, pulls."""

    def __init__(self, client, login: str, device_id: str | None = None):
        self.client = client
        self.device_id = device_id or str(uuid.uuid4())
        answer = client.post("/api/v1/session", json={"login": login, "password": PASSWORD})
        assert answer.status_code == 200, answer.json
        self.token = answer.json["csrf_token"]

    def push_raw(self, body, **kwargs):
        """POST a push body as given."""
        return self.client.post("/api/v1/sync/push", json=body,
                                headers={"X-CSRFToken": self.token}, **kwargs)

    def push(self, *records: dict) -> list[dict]:
        """Push records; return their results (the call must succeed)."""
        answer = self.push_raw({"device_id": self.device_id, "records": list(records)})
        assert answer.status_code == 200, answer.json
        return answer.json["results"]

    def pull(self, cursor: str | None = None):
        """Pull after a cursor; return the JSON answer."""
        query = {"cursor": cursor} if cursor else {}
        answer = self.client.get("/api/v1/sync/pull", query_string=query)
        assert answer.status_code == 200, answer.json
        return answer.json


class HttpAnswer:
    """A requests response, read the way Flask's test responses are."""

    def __init__(self, response):
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.content
        self.text = response.text
        self.is_json = response.headers.get("Content-Type", "").startswith("application/json")
        self.json = response.json() if self.is_json else None


class HttpClient:
    """Real HTTP to a live server on 127.0.0.1, with the calls of Flask's test client."""

    def __init__(self, base_url: str):
        import requests

        self.base_url = base_url
        self.session = requests.Session()

    def open(self, path: str, method: str = "GET", json=None, data=None, content_type=None,
             headers=None, query_string=None):
        """Send one request and return its answer."""
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        response = self.session.request(method, self.base_url + path, json=json, data=data,
                                        headers=headers, params=query_string, timeout=60)
        return HttpAnswer(response)

    def get(self, path: str, **kwargs):
        """GET over HTTP."""
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs):
        """POST over HTTP."""
        return self.open(path, "POST", **kwargs)

    def delete(self, path: str, **kwargs):
        """DELETE over HTTP."""
        return self.open(path, "DELETE", **kwargs)
