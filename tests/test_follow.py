"""What stored records set off (records_stored): alerts raised once, whatever path stored them."""

import pytest
from sqlalchemy import select

from outreach.alerts.models import Alert
from outreach.core import storing
from outreach.core.db import db
from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, rencontre

PERSON = "6f1c2a34-8d7e-4b5a-9c01-23456789abcd"


def visite(**data) -> dict:
    return {"personne": PERSON, "date": "2026-11-20", "mode": "domicile",
            "personne_vue": "oui", "alerte": "aucune", **data}


@pytest.fixture
def tablets(app):
    for login, role in (("maraude", "maraude"), ("visiteur", "visiteur")):
        add_user(app, login, role)
    return lambda login: Tablet(app.test_client(), login)


def alerts(app):
    with app.app_context():
        found = list(db.session.scalars(select(Alert).order_by(Alert.change_seq)))
        db.session.expunge_all()
        return found


def test_a_fall_at_a_visite_raises_one_alert_and_a_replay_none(app, tablets):
    tablet = tablets("visiteur")
    fall = item("visite.visite", visite(alerte="chute"))
    assert tablet.push(fall)[0]["status"] == "created"
    assert tablet.push(fall)[0]["status"] == "unchanged"
    [alert] = alerts(app)
    assert (alert.kind, alert.record_id, alert.person_id, alert.status) == (
        "chute", fall["id"], PERSON, "nouvelle")


def test_an_urgent_rencontre_raises_an_alert_and_a_quiet_one_none(app, tablets):
    tablet = tablets("maraude")
    urgent = item(data=rencontre(situation_urgente=True, detail_urgence="Froid, 115 appelé."))
    tablet.push(urgent, item(data=rencontre()), item("visite.visite", visite()))
    [alert] = alerts(app)
    assert (alert.kind, alert.detail) == ("situation_urgente", "Froid, 115 appelé.")


def test_a_record_changed_to_raise_an_alert_raises_it_then(app, tablets):
    tablet = tablets("visiteur")
    calm = item("visite.visite", visite())
    tablet.push(calm)
    assert alerts(app) == []
    tablet.push(calm | {"base_revision": 1, "data": visite(alerte="degradation")})
    assert [a.kind for a in alerts(app)] == ["degradation"]


def test_records_stored_while_following_failed_are_caught_up_later(app, tablets, monkeypatch):
    tablet = tablets("visiteur")
    monkeypatch.setattr(storing, "catch_up", lambda session: 1 / 0)
    tablet.push(item("visite.visite", visite(alerte="chute")))  # stored all the same
    assert alerts(app) == []
    monkeypatch.undo()
    tablet.push(item("visite.visite", visite(alerte="absence_reponse")))
    assert sorted(a.kind for a in alerts(app)) == ["absence_reponse", "chute"]


def test_each_alert_takes_its_own_sequence_number(app, tablets):
    tablet = tablets("visiteur")
    tablet.push(*(item("visite.visite", visite(alerte="chute")) for _ in range(3)))
    seqs = [a.change_seq for a in alerts(app)]
    assert len(set(seqs)) == 3


# --- A person's level only rises, and only with consent (DESIGN §6) -------------------------


def test_an_identified_person_never_goes_back_to_an_alias(app, tablets):
    tablet = tablets("maraude")
    known = item("personne", {"niveau": "identifie", "alias_prenom": "Momo", "nom": "Durand",
                              "consentement": True, "date_consentement": "2026-11-01"})
    tablet.push(known)
    [result] = tablet.push(known | {"base_revision": 1,
                                    "data": {"niveau": "alias", "alias_prenom": "Momo"}})
    assert result["status"] == "rejected"
    assert "ne fait que monter" in result["errors"]["niveau"][0]


def test_an_alias_becomes_identified_only_with_consent(app, tablets):
    tablet = tablets("maraude")
    alias = item("personne", {"niveau": "alias", "alias_prenom": "Momo"})
    tablet.push(alias)
    named = {"niveau": "identifie", "alias_prenom": "Momo", "nom": "Durand"}
    [refused] = tablet.push(alias | {"base_revision": 1, "data": named})
    assert refused["status"] == "rejected" and "consentement" in refused["errors"]
    [risen] = tablet.push(alias | {"base_revision": 1, "data": named | {
        "consentement": True, "date_consentement": "2026-11-20"}})
    assert risen["status"] == "updated"


def test_the_current_person_form_identifies_only_with_consent(app, tablets):
    tablet = tablets("maraude")
    [result] = tablet.push(item("personne", {"niveau": "identifie", "alias_prenom": "Momo",
                                             "nom": "Durand"}, form_version=2))
    assert result["status"] == "rejected"
    assert result["errors"]["consentement"] == [
        "Une personne n'est identifiée qu'avec son consentement : répondez « Oui » et notez "
        "la date."]


def test_the_rows_handed_over_by_a_push_are_followed_as_a_re_read_would(app):
    """The follow-up takes the rows a push just wrote, and reads from the database the others.

    Between a push and its follow-up, another server changed one of its records and stored one of
    its own: the follow-up must see the record as it now stands and the other server's one too.
    """
    from sync.push import Actor, apply_batch

    user = add_user(app, "maraude", "maraude")
    actor = Actor(user, "maraude")
    first, changed = item(data=rencontre()), item(data=rencontre())
    seen: list[list] = []

    def record_rows(_session, records, **_kwargs):
        seen.append([tuple(row) for row in records])

    with app.app_context():
        storing.catch_up(db.session)
        forms = storing.catalog.engine_forms()
        applied = apply_batch(db.session, actor, None, [first, changed], forms)
        urgent = rencontre(situation_urgente=True, detail_urgence="Froid.")
        other = item(data=rencontre())
        apply_batch(db.session, actor, None,
                    [changed | {"base_revision": 1, "data": urgent}, other], forms)
        expected = [tuple(row) for row in db.session.execute(
            select(*storing.FOLLOWED).order_by(storing.record.c.change_seq))]
        storing.signals.records_stored.connect(record_rows)
        try:
            assert storing.catch_up(db.session, applied.written) == 3
        finally:
            storing.signals.records_stored.disconnect(record_rows)
    assert seen == [expected]
    assert [row[0] for row in expected] == [first["id"], changed["id"], other["id"]]
    assert [(a.record_id, a.kind) for a in alerts(app)] == [(changed["id"], "situation_urgente")]
