"""/fiches: the coordinateur reads stored records with their labels, by form and period."""

import uuid
from datetime import UTC, datetime, timedelta

from outreach.core.db import db
from outreach.core.models import AuditEvent, Record


def _add(app, user_id, form, data, when, parent_id=None):
    ident = str(uuid.uuid4())
    with app.app_context():
        db.session.add(Record(id=ident, form=form, form_version=1, revision=1, data=data,
                              recorded_at=when, received_at=when, recorded_by=user_id,
                              parent_id=parent_id, content_hash="0" * 64))
        db.session.commit()
    return ident


TOURNEE = {"date": "2026-01-15", "heure_depart": "20:00", "secteur": "Gare et quais",
           "equipe": "Ana, Léo"}
RENCONTRE = {"lieu": {"label": "Parvis de la gare", "lat": None, "lon": None},
             "niveau": "anonyme", "nombre_personnes": 2,
             "prestations": ["boisson_chaude"], "situation_urgente": False}


def test_records_show_labels_not_codes(app, auth, client):
    agent = auth.user("maraude")
    when = datetime(2026, 1, 15, 20, 30, tzinfo=UTC)
    tournee = _add(app, agent, "maraude.tournee", TOURNEE, when)
    rencontre = _add(app, agent, "maraude.rencontre", RENCONTRE, when, parent_id=tournee)
    auth.login("coordinateur")
    listing = client.get("/fiches")
    assert listing.status_code == 200
    assert "2 fiches." in listing.text and "Tournée de maraude" in listing.text
    detail = client.get(f"/fiches/{rencontre}")
    assert "Boisson chaude" in detail.text and "boisson_chaude" not in detail.text
    assert "Parvis de la gare" in detail.text and "Anonyme" in detail.text
    assert "Non" in detail.text
    parent = client.get(f"/fiches/{tournee}")
    assert "15/01/2026" in parent.text and "Fiches rattachées (1)" in parent.text


def test_reading_a_record_is_audited(app, auth, client):
    agent = auth.user("maraude")
    ident = _add(app, agent, "maraude.tournee", TOURNEE, datetime.now(UTC))
    auth.login("coordinateur")
    client.get(f"/fiches/{ident}")
    with app.app_context():
        event = db.session.query(AuditEvent).one()
        assert (event.action, event.target) == ("record.read", ident)


def test_filter_by_form_and_period_newest_first(app, auth, client):
    agent = auth.user("maraude")
    start = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    for day in range(10):
        _add(app, agent, "maraude.tournee", {**TOURNEE, "secteur": f"Secteur {day}"},
             start + timedelta(days=day))
    _add(app, agent, "maraude.rencontre", RENCONTRE, start)
    auth.login("admin")
    only = client.get("/fiches?formulaire=maraude.tournee&du=2026-03-03&au=2026-03-05")
    assert "3 fiches." in only.text
    assert only.text.index("Secteur 4") < only.text.index("Secteur 2")
    assert "Secteur 5" not in only.text
    bad = client.get("/fiches?formulaire=rien&du=hier")
    assert bad.status_code == 200
    assert "Formulaire inconnu." in bad.text and "Date invalide" in bad.text


def test_pagination(app, auth, client):
    agent = auth.user("maraude")
    start = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    for minute in range(55):
        _add(app, agent, "maraude.tournee", TOURNEE, start + timedelta(minutes=minute))
    auth.login("coordinateur")
    first = client.get("/fiches")
    assert "Page 1 sur 2" in first.text and first.text.count("records.show") == 0
    assert first.text.count('href="/fiches/') == 50
    second = client.get("/fiches?page=2")
    assert second.text.count('href="/fiches/') == 5
    assert client.get("/fiches?page=abc").status_code == 200


def test_unknown_record_is_404(auth, client):
    auth.login("coordinateur")
    assert client.get(f"/fiches/{uuid.uuid4()}").status_code == 404
