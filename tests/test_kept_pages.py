"""The pages a tablet keeps for offline use name nobody (issue 17): the copy the service worker
asks for (X-Outreach-Keep) leaves out what is personal, for every role's every offline page;
the page a person is shown online still names the people in it."""

import json
import re

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import Record
from outreach.demo.load import DEMO_PASSWORD, DEMO_USERS

WHOLE = ("telephone", "adresse", "contact_urgence", "telephone_urgence")


@pytest.fixture
def people_words(demo_app):
    """Every person of the demonstration as a page names them (alias or first name, then
    surname), and their phones and addresses, less the accounts' names (shown in the bar on
    every page: the agent's own, not a person's)."""
    agents = {name for _, name, _ in DEMO_USERS}
    words = set()
    with demo_app.app_context():
        for person in db.session.scalars(select(Record).where(Record.form == "personne")):
            data = person.data
            words.add(" ".join(filter(None, [data.get("alias_prenom"), data.get("nom")])))
            words.update(data[key] for key in WHOLE if isinstance(data.get(key), str))
    return {word for word in words if len(word) > 3} - agents


def offline_pages(client) -> list[str]:
    home = client.get("/").text
    listed = re.search(r'data-offline-pages="([^"]*)"', home).group(1)
    return json.loads(listed.replace("&#34;", '"').replace("&quot;", '"'))


@pytest.mark.parametrize("login", [login for login, _, _ in DEMO_USERS])
def test_every_kept_page_of_every_role_names_nobody(demo_app, people_words, login):
    client = demo_app.test_client()
    assert client.post("/api/v1/session", json={"login": login,
                                                "password": DEMO_PASSWORD}).status_code == 200
    pages = offline_pages(client)
    assert pages
    for path in pages:
        kept = client.get(path, headers={"X-Outreach-Keep": "1"})
        assert kept.status_code == 200, path
        assert kept.headers["X-Outreach-Kept"] == "1"
        named = sorted(word for word in people_words if word in kept.text)
        assert named == [], (path, named)


def test_the_page_shown_online_still_names_the_people_and_is_not_marked_kept(
    demo_app, people_words
):
    client = demo_app.test_client()
    client.post("/api/v1/session", json={"login": "visiteur", "password": DEMO_PASSWORD})
    shown = client.get("/saisie/visite.visite")
    assert "X-Outreach-Kept" not in shown.headers
    assert "X-Outreach-Keep" in shown.headers["Vary"]
    assert any(word in shown.text for word in people_words)
