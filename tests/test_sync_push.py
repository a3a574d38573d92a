"""Push (DESIGN §4, §9): one result per record, exactly once, nothing lost, nothing overwritten."""

import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from outreach.core.db import db
from sync.schema import quarantine, record, record_conflict, record_revision, sync_log
from tests.conftest import AuthActions, add_user
from tests.sync_helpers import HttpClient, Tablet, item, personne, rencontre


@pytest.fixture
def tablet(app, live_server):
    """A tablet talking real HTTP to the app on 127.0.0.1."""
    add_user(app, "maraude", "maraude")
    return Tablet(HttpClient(live_server.url), "maraude")


def rows(app, table, **where):
    with app.app_context():
        query = select(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return [dict(row._mapping) for row in db.session.execute(query)]


def test_created_then_unchanged_on_replay(app, tablet):
    sent = item()
    [first] = tablet.push(sent)
    assert first == {"id": sent["id"], "status": "created", "revision": 1, "errors": {}}
    [again] = tablet.push(sent)
    assert again == {"id": sent["id"], "status": "unchanged", "revision": 1, "errors": {}}
    [stored] = rows(app, record, id=sent["id"])
    assert stored["revision"] == 1 and stored["data"]["nombre_personnes"] == 2
    assert stored["device_id"] == tablet.device_id


def test_a_replay_with_any_base_revision_is_unchanged(tablet):
    sent = item()
    tablet.push(sent)
    [result] = tablet.push({**sent, "base_revision": 7})
    assert result["status"] == "unchanged"


def test_updated_on_current_revision_keeps_history(app, tablet):
    sent = item()
    tablet.push(sent)
    edited = {**sent, "base_revision": 1, "data": rencontre(nombre_personnes=3)}
    [result] = tablet.push(edited)
    assert result == {"id": sent["id"], "status": "updated", "revision": 2, "errors": {}}
    [stored] = rows(app, record, id=sent["id"])
    assert stored["revision"] == 2 and stored["data"]["nombre_personnes"] == 3
    [old] = rows(app, record_revision, record_id=sent["id"])
    assert old["revision"] == 1 and old["data"]["nombre_personnes"] == 2
    assert old["device_id"] == tablet.device_id
    assert tablet.push(edited)[0]["status"] == "unchanged"


@pytest.mark.parametrize("base_revision", [None, 1])
def test_conflict_on_stale_or_missing_revision_keeps_both(app, tablet, base_revision):
    sent = item()
    tablet.push(sent)
    tablet.push({**sent, "base_revision": 1, "data": rencontre(nombre_personnes=3)})
    stale = {**sent, "base_revision": base_revision, "data": rencontre(nombre_personnes=9)}
    [result] = tablet.push(stale)
    assert result == {"id": sent["id"], "status": "conflict", "revision": 2, "errors": {}}
    [stored] = rows(app, record, id=sent["id"])
    assert stored["data"]["nombre_personnes"] == 3, "the current version stays"
    [kept] = rows(app, record_conflict, record_id=sent["id"])
    assert kept["data"]["nombre_personnes"] == 9 and kept["current_revision"] == 2
    [replay] = tablet.push(stale)
    assert replay["status"] == "unchanged", "a version already kept in conflict is a replay"
    assert len(rows(app, record_conflict, record_id=sent["id"])) == 1


def test_rejected_is_kept_in_quarantine_and_the_batch_goes_on(app, tablet):
    good, bad = item(), item(data=rencontre(nombre_personnes=0, intrus="x"))
    results = tablet.push(good, bad)
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[1]["revision"] is None
    assert results[1]["errors"]["nombre_personnes"] == ["Au moins 1."]
    assert results[1]["errors"]["intrus"] == ["Champ inconnu."]
    [kept] = rows(app, quarantine, record_id=bad["id"])
    assert kept["raw"] == bad and kept["status"] == "open"
    assert kept["errors"] == results[1]["errors"]
    assert not rows(app, record, id=bad["id"])
    tablet.push(bad)
    assert len(rows(app, quarantine, record_id=bad["id"])) == 1, "a replay is not kept twice"


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"form": "inconnu"}, "form", "ne permet pas"),
        ({"form": "visite.visite"}, "form", "ne permet pas"),
        ({"form_version": 9}, "form_version", "inconnu"),
        ({"form_version": "1"}, "form_version", "entier"),
        ({"recorded_at": "2099-01-01T00:00:00+00:00"}, "recorded_at", "futur"),
        ({"recorded_at": "1999-12-31T23:00:00+00:00"}, "recorded_at", "2000"),
        ({"recorded_at": "2026-11-20T21:30:00"}, "recorded_at", "fuseau"),
        ({"recorded_at": "hier"}, "recorded_at", "ISO"),
        ({"parent_id": "pas-un-uuid"}, "parent_id", "UUID"),
        ({"base_revision": 0}, "base_revision", "entier"),
        ({"recorded_by": 1}, "recorded_by", "inconnu"),
        ({"data": []}, "data", "objet"),
        ({"data": rencontre(notes="x" * 5001)}, "notes", "5000 caractères"),
    ],
)
def test_each_bad_record_is_rejected_alone_with_a_french_reason(tablet, change, key, message):
    bad = {**item(), **change}
    results = tablet.push(item(), bad, item())
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert message in " ".join(results[1]["errors"][key])


def test_a_missing_record_key_is_rejected(tablet):
    bad = item()
    del bad["data"]
    [result] = tablet.push(bad)
    assert result["errors"]["data"] == ["Ce champ est obligatoire."]


def test_results_come_in_request_order(tablet):
    sent = [item() for _ in range(20)]
    results = tablet.push(*sent)
    assert [r["id"] for r in results] == [s["id"] for s in sent]


def test_a_child_before_its_parent_is_accepted_then_tied(app, tablet):
    tournee = item("maraude.tournee", {"date": "2026-11-20", "heure_depart": "20:00",
                                       "secteur": "Gare", "equipe": "Ana, Léo"})
    child = item(parent_id=tournee["id"])
    assert tablet.push(child)[0]["status"] == "created"
    assert tablet.push(tournee)[0]["status"] == "created"
    office = AuthActions(app, app.test_client())
    office.login("coordinateur")
    page = office.client.get(f"/fiches/{tournee['id']}")
    assert "Fiches rattachées (1)" in page.text


def test_an_agent_cannot_change_someone_elses_record(app, live_server, tablet):
    sent = item()
    tablet.push(sent)
    add_user(app, "autre", "maraude")
    other = Tablet(HttpClient(live_server.url), "autre")
    [result] = other.push({**sent, "base_revision": 1, "data": rencontre(nombre_personnes=5)})
    assert result["status"] == "rejected" and "autre personne" in result["errors"]["id"][0]


def test_a_record_cannot_change_form(tablet):
    sent = item()
    tablet.push(sent)
    moved = {**sent, "form": "personne", "base_revision": 1, "data": personne()}
    [result] = tablet.push(moved)
    assert result["status"] == "rejected" and "formulaire" in result["errors"]["form"][0]


def test_the_same_id_twice_in_one_batch(app, tablet):
    sent = item()
    edited = {**sent, "base_revision": 1, "data": rencontre(nombre_personnes=4)}
    results = tablet.push(sent, sent, edited)
    assert [r["status"] for r in results] == ["created", "unchanged", "updated"]
    [stored] = rows(app, record, id=sent["id"])
    assert stored["revision"] == 2 and stored["data"]["nombre_personnes"] == 4


def test_every_push_is_logged(app, tablet):
    tablet.push(item(), item(data={}))
    [logged] = rows(app, sync_log, kind="push")
    assert logged["counts"] == {"created": 1, "rejected": 1}
    assert logged["device_id"] == tablet.device_id


# The envelope: 400 only when it cannot be read, 413 when too large; nothing applied.


@pytest.mark.parametrize(
    "body",
    [
        "pas du json",
        "[]",
        '{"records": []}',
        '{"device_id": "abc", "records": []}',
        '{"device_id": "DEVICE"}',
        '{"device_id": "DEVICE", "records": {}}',
        '{"device_id": "DEVICE", "records": [1]}',
        '{"device_id": "DEVICE", "records": [{"id": "x"}]}',
        '{"device_id": "DEVICE", "records": [], "extra": 1}',
    ],
)
def test_unreadable_envelope_is_400_json_and_nothing_applied(app, tablet, body):
    good = json.dumps(item())
    body = body.replace("[1]", f"[{good}, 1]").replace("DEVICE", str(uuid.uuid4()))
    answer = tablet.client.post("/api/v1/sync/push", data=body, content_type="application/json",
                                headers={"X-CSRFToken": tablet.token})
    assert answer.status_code == 400
    assert answer.is_json and answer.json["error"]
    assert not rows(app, record)


def test_more_than_500_records_is_413_and_nothing_applied(app, tablet):
    answer = tablet.push_raw({"device_id": tablet.device_id,
                              "records": [item() for _ in range(501)]})
    assert answer.status_code == 413 and "500" in answer.json["error"]
    assert not rows(app, record)


def test_a_body_over_10_mb_is_413(tablet):
    answer = tablet.client.post("/api/v1/sync/push", data=b"x" * (10 * 1024 * 1024 + 1),
                                content_type="application/json",
                                headers={"X-CSRFToken": tablet.token})
    assert answer.status_code == 413 and answer.is_json


def test_push_needs_a_session_and_a_csrf_token(app, live_server, tablet):
    body = {"device_id": tablet.device_id, "records": [item()]}
    assert tablet.client.post("/api/v1/sync/push", json=body).json["code"] == "csrf"
    anonymous = HttpClient(live_server.url).post("/api/v1/sync/push", json=body)
    assert anonymous.status_code == 401 and anonymous.is_json
    assert not rows(app, record)


def test_exactly_one_row_per_id_at_database_level(app, tablet):
    sent = item()
    tablet.push(sent)

    with app.app_context():
        copy = rows(app, record, id=sent["id"])[0]
        with pytest.raises(IntegrityError):
            db.session.execute(record.insert().values(copy))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(record)) == 1


def test_the_same_moment_written_two_ways_is_a_replay(tablet):
    sent = item(recorded_at="2026-11-20T21:30:00.000Z")
    assert tablet.push(sent)[0]["status"] == "created"
    same = {**sent, "recorded_at": "2026-11-20T22:30:00+01:00"}
    assert tablet.push(same)[0]["status"] == "unchanged"


def test_results_echo_the_id_as_sent(app, tablet):
    sent = item()
    sent["id"] = sent["id"].upper()
    [result] = tablet.push(sent)
    assert result["id"] == sent["id"] and result["status"] == "created"
    assert rows(app, record, id=sent["id"].lower())
    assert tablet.push({**sent, "id": sent["id"].lower()})[0]["status"] == "unchanged"
