"""The demonstration CCAS: loaded once, plausible, valid against the forms, all or nothing."""

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from outreach.core.db import db
from outreach.core.forms import FormRegistry, load_definitions
from outreach.core.models import AppState, Record, ReferenceItem, User
from outreach.core.passwords import check_password
from outreach.demo.load import (
    DEMO_PASSWORD,
    DEMO_SETTINGS,
    DEMO_USERS,
    MARKER,
    load_demo,
    use_demo_settings,
)
from sync.content import content_hash
from tests.conftest import AuthActions, make_app

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 3, 15)
FIRST_DAY = date(2024, 1, 1)
START_OF_TODAY = datetime.combine(TODAY, time(0), PARIS)
PLANNED = {"prochaine_visite", "rendez_vous_suivi"}  # the only dates that may come after today
PARENTS = {"maraude.rencontre": "maraude.tournee", "permanence.accueil": "permanence.session"}


def load(app, today=TODAY):
    """Load the demo into an app; return the logins made and every record, oldest change first."""
    with app.app_context():
        made = load_demo(app.extensions["outreach.forms"], today=today)
        records = list(db.session.scalars(select(Record).order_by(Record.change_seq)))
        users = {user.id: user.role for user in db.session.scalars(select(User))}
    return made, records, users


@pytest.fixture(scope="module")
def demo(tmp_path_factory, migrated_database):
    """One demo load shared by the read-only checks (a load takes about a second)."""
    app = make_app(tmp_path_factory.mktemp("demo"), migrated_database)
    made, records, users = load(app)
    yield app, made, records, users
    with app.app_context():
        db.engine.dispose()


def counts(app):
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Record, User, ReferenceItem, AppState)}


def test_load_returns_the_logins_and_a_second_load_changes_nothing(demo):
    app, made, records, _ = demo
    assert made == [(login, role, DEMO_PASSWORD) for login, _, role in DEMO_USERS]
    roles = Counter(role for _, role, _ in made)
    assert set(roles) == {"maraude", "visiteur", "travailleur_social", "coordinateur", "admin"}
    assert roles["maraude"] == 2 and roles["visiteur"] == 4
    assert {"maraude", "visiteur", "social", "coordinateur", "admin"} <= {row[0] for row in made}
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "coordinateur"))
        assert user.active and check_password(user.password_hash, DEMO_PASSWORD)
        assert db.session.get(AppState, MARKER) is not None
    before = counts(app)
    assert before["Record"] == len(records) and before["User"] == len(DEMO_USERS)
    with app.app_context():
        assert load_demo(app.extensions["outreach.forms"], today=TODAY) is None
        assert load_demo(app.extensions["outreach.forms"]) is None
    assert counts(app) == before


def test_every_record_is_valid_and_nothing_is_dated_after_today(demo):
    app, _, records, _ = demo
    registry = app.extensions["outreach.forms"]
    with app.app_context():
        for record in records:
            clean, errors = registry.validate(record.form, record.form_version, record.data)
            assert errors == {} and clean == record.data, (record.form, errors)
    for record in records:
        assert (record.revision, record.device_id) == (1, None)
        assert not record.deleted
        assert record.content_hash == content_hash({
            "form": record.form, "form_version": record.form_version,
            "parent_id": record.parent_id,
            "recorded_at": record.recorded_at.isoformat(), "data": record.data,
        })
        assert record.recorded_at.tzinfo is not None
        assert record.recorded_at <= record.received_at <= START_OF_TODAY
        assert record.recorded_at < START_OF_TODAY
        assert record.received_at - record.recorded_at < timedelta(hours=12)
        dates = [spec["key"] for spec in registry.get(record.form, record.form_version).fields
                 if spec["type"] == "date" and spec["key"] not in PLANNED]
        if record.form == "maraude.tournee" and not record.data.get("heure_retour"):
            # Planned ahead by the coordinateur: dated today or after, not held yet.
            assert record.data["date"] >= TODAY.isoformat()
            continue
        for key in dates:
            if record.data.get(key):
                assert date.fromisoformat(record.data[key]) < TODAY
                if key != "date_naissance":
                    assert date.fromisoformat(record.data[key]) >= FIRST_DAY
        if "date" in record.data:
            assert record.recorded_at.astimezone(PARIS).date().isoformat() == record.data["date"]
    sequence = [record.change_seq for record in records]
    assert sequence == sorted(set(sequence))


def test_children_belong_to_a_parent_of_the_right_form_and_add_up(demo):
    _, _, records, users = demo
    by_id = {record.id: record for record in records}
    met = defaultdict(int)
    for record in records:
        if record.form in PARENTS:
            parent = by_id[record.parent_id]
            assert parent.form == PARENTS[record.form]
            assert parent.recorded_by == record.recorded_by
            assert parent.recorded_at <= record.recorded_at
            assert parent.change_seq < record.change_seq
            local = record.recorded_at.astimezone(PARIS)
            end = parent.data.get("heure_retour") or parent.data.get("heure_fin")
            assert local.date().isoformat() == parent.data["date"]
            assert local.strftime("%H:%M") <= end
            met[record.parent_id] += record.data["nombre_personnes"]
        else:
            assert record.parent_id is None
        if "femmes" in record.data:
            assert record.data["femmes"] + record.data["hommes"] <= record.data["nombre_personnes"]
        if record.data.get("situation_urgente"):
            assert record.data["detail_urgence"].strip()
    for record in records:
        if record.form in PARENTS.values() and "nombre_personnes" in record.data:
            assert record.data["nombre_personnes"] == met[record.id]
    planned = [r for r in records if r.form == "maraude.tournee" and "heure_retour" not in r.data]
    assert len(planned) == 2 and not any(met[r.id] for r in planned)
    # Rencontres name aliases the maraude team made; accueils name people the worker identified.
    for record in records:
        if record.form in PARENTS and "personne" in record.data:
            person = by_id[record.data["personne"]]
            assert person.form == "personne" and person.change_seq < record.change_seq
            assert person.data["niveau"] == record.data["niveau"]
            assert users[person.recorded_by] == users[record.recorded_by]
    forms = Counter(r.form for r in records)
    urgent = Counter(r.form for r in records if r.data.get("situation_urgente"))
    assert 0 < urgent["maraude.rencontre"] < forms["maraude.rencontre"] / 10
    named = {r.data["personne"] for r in records if r.form == "maraude.rencontre"
             and "personne" in r.data}
    assert 20 <= len(named) <= 30
    assert Counter(r.data["niveau"] for r in records if r.form == "maraude.rencontre")["anonyme"] \
        > len(named)


def test_two_years_of_activity_of_plausible_size(demo):
    app, _, records, users = demo
    forms = Counter(record.form for record in records)
    assert 180 <= forms["maraude.tournee"] <= 320
    assert 4_500 <= len(records) <= 9_000
    assert forms["maraude.rencontre"] > 3 * forms["maraude.tournee"]
    assert forms["permanence.session"] > 100 and forms["permanence.accueil"] > 300
    first = min(record.recorded_at for record in records).astimezone(PARIS).date()
    # From the first of January two years back: the year before and the one before it, whole.
    assert FIRST_DAY <= first < FIRST_DAY + timedelta(days=10)
    # More rounds in winter (November to March) than in summer.
    rounds = Counter(date.fromisoformat(r.data["date"]).month
                     for r in records if r.form == "maraude.tournee")
    assert rounds[1] + rounds[2] > 1.3 * (rounds[6] + rounds[7])
    # The three sites, each held about twice a month.
    with app.app_context():
        sites = {item.value for item in db.session.scalars(
            select(ReferenceItem).where(ReferenceItem.list_key == "sites"))}
    assert len(sites) == 3
    held = Counter(r.data["site"] for r in records if r.form == "permanence.session")
    assert set(held) == sites and all(36 <= n <= 50 for n in held.values())
    assert {users[r.recorded_by] for r in records if r.form.startswith("permanence.")} == {
        "travailleur_social"}


def test_about_thirty_seniors_each_visited_by_one_of_four_visiteurs(demo):
    _, _, records, users = demo
    by_id = {record.id: record for record in records}
    visits = [record for record in records if record.form == "visite.visite"]
    visitors_of = defaultdict(set)
    for visit in visits:
        visitors_of[visit.data["personne"]].add(visit.recorded_by)
    assert len(visitors_of) == 30
    assert all(len(visitors) == 1 for visitors in visitors_of.values())
    seniors_of = Counter(next(iter(visitors)) for visitors in visitors_of.values())
    assert len(seniors_of) == 4 and min(seniors_of.values()) >= 5
    assert {users[visitor] for visitor in seniors_of} == {"visiteur"}
    for senior_id, visitors in visitors_of.items():
        senior = by_id[senior_id]
        assert senior.form == "personne" and senior.recorded_by in visitors
        data = senior.data
        assert data["niveau"] == "identifie" and data["nom"] and data["consentement"] is True
        assert 1930 <= date.fromisoformat(data["date_naissance"]).year <= 1958
        assert re.fullmatch(r"0\d( \d\d){4}", data["telephone"])
        assert data["adresse"] and data["date_consentement"]
    seen = Counter(visit.data["personne_vue"] for visit in visits)
    assert seen["oui"] > 0.8 * len(visits) and seen["absente"] > 0
    alerts = Counter(visit.data["alerte"] for visit in visits)
    assert alerts["aucune"] > 0.9 * len(visits)
    assert {"chute", "degradation", "absence_reponse"} <= set(alerts)
    assert {visit.data["mode"] for visit in visits} == {"domicile", "telephone"}
    # Weekly or fortnightly: about one contact a week for each senior followed.
    assert 20 * 52 <= len(visits) <= 30 * 2 * 60


def test_the_demo_is_the_same_every_time(demo, tmp_path, migrated_database):
    _, _, records, _ = demo
    other = make_app(tmp_path, migrated_database)
    try:
        _, again, _ = load(other)
    finally:
        with other.app_context():
            db.engine.dispose()

    def content(rows):
        return [(r.id, r.form, r.parent_id, r.recorded_at, r.content_hash) for r in rows]

    assert content(again) == content(records)


def test_a_load_that_fails_leaves_nothing_behind(app):
    # A tournée form without its «secteur» field refuses the first round: nothing is kept,
    # not even the accounts and sites already flushed.
    definitions = load_definitions(app.config["FORMS_DIR"])
    for definition in definitions:
        if definition.key == "maraude.tournee":
            definition.fields = [f for f in definition.fields if f["key"] != "secteur"]
            definition.raw = {**definition.raw, "fields": definition.fields}
    registry = FormRegistry(definitions, lambda list_key: ())
    with app.app_context():
        with pytest.raises(ValueError, match="maraude.tournee"):
            load_demo(registry, today=TODAY)
    assert counts(app) == {"Record": 0, "User": 0, "ReferenceItem": 0, "AppState": 0}


def test_the_ccas_own_work_is_in_the_demo(demo):
    """Assignments with overdue visits, alerts in every state, a form at version 2."""
    app, _, records, _ = demo
    with app.app_context():
        from outreach.alerts.models import Alert
        from outreach.visits.models import VisitAssignment

        assigned = list(db.session.scalars(select(VisitAssignment)))
        alerts = list(db.session.scalars(select(Alert)))
        assert 20 <= len(assigned) <= 30 and all(a.active for a in assigned)
        overdue = [a for a in assigned if a.next_due < TODAY]
        assert 2 <= len(overdue) <= 6, "a few seniors not visited for some weeks"
        assert {a.status for a in alerts} == {"nouvelle", "prise_en_charge", "close"}
        assert all(a.outcome for a in alerts if a.status == "close")
    versions = {r.form_version for r in records if r.form == "personne"}
    assert versions == {1, 2}


def test_permanences_are_planned_ahead(demo):
    app, _, _, _ = demo
    with app.app_context():
        from outreach.permanences.models import PlannedSession

        planned = list(db.session.scalars(select(PlannedSession)))
    assert len(planned) >= 4 and all(p.day >= TODAY for p in planned)
    assert {p.site for p in planned} == {"tilleuls", "saint_martin", "villiers"}


def test_a_register_of_about_forty_and_last_summers_closed_plan(demo):
    """The register (some tied to visited seniors, some to confirm, two withdrawn) and a plan
    canicule from the summer before, closed, its figures kept, its calls as records."""
    app, _, records, _ = demo
    from outreach.register import entries as register
    from outreach.register.models import AlertPlan, CallTask

    entries = [r for r in records if r.form == "registre.inscription"]
    assert 38 <= len(entries) <= 42
    active = [e for e in entries if not e.data.get("date_retrait")]
    assert len(entries) - len(active) == 2
    assert {e.data["categorie"] for e in entries} == {"65_ans_plus", "60_ans_inapte",
                                                      "adulte_handicape"}
    assert sum(1 for e in entries if e.data.get("personne")) >= 10
    # In March, the spring campaign is ahead: most are to confirm, not all (recent requests).
    assert 1 <= sum(1 for e in active if register.to_confirm(e, TODAY)) < len(active)
    with app.app_context():
        (plan,) = db.session.scalars(select(AlertPlan)).all()
        tasks = db.session.scalars(select(CallTask)).all()
        assert plan.kind == "canicule" and plan.starts_on == date(2025, 7, 8)
        assert plan.closed_at is not None and plan.figures["all"]["total"] == len(tasks)
        assert plan.figures["all"]["reached"] + plan.figures["all"]["not_reached"] == len(tasks)
        assert plan.figures["all"]["not_called"] == 0
        assert all(t.action_done_at for t in tasks if t.status == "besoin")
    calls = [r for r in records if r.form == "plan.appel"]
    assert len(calls) >= len(tasks) and {c.data["plan"] for c in calls} == {plan.id}


def test_the_demo_says_whom_to_call_the_coordination_number_is_invented(demo):
    app, *_ = demo
    assert app.config["COORDINATION_PHONE"] == DEMO_SETTINGS["COORDINATION_PHONE"]
    assert DEMO_SETTINGS["COORDINATION_PHONE"].startswith("01 99 00")  # ARCEP's fiction range
    # Its letters and reports are signed with its own name, not the default "CCAS".
    assert app.config["CCAS_NAME"] == "CCAS de Val-d'Aurelle"
    auth = AuthActions(app, app.test_client())
    assert auth.login("visiteur", DEMO_PASSWORD).status_code == 302
    home = auth.client.get("/").text
    assert 'data-coordination-phone="01 99 00 00 00"' in home


def test_a_coordination_number_set_explicitly_wins_over_the_demo_s(demo, tmp_path,
                                                                   migrated_database):
    app, *_ = demo
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    own = make_app(tmp_path, migrated_database, SQLALCHEMY_DATABASE_URI=url,
                   COORDINATION_PHONE="05 55 12 34 56")
    assert use_demo_settings(own) and own.config["COORDINATION_PHONE"] == "05 55 12 34 56"
    # Without the demo in its database, an app is left as it was set up.
    (tmp_path / "bare").mkdir()
    bare = make_app(tmp_path / "bare", migrated_database)
    assert not use_demo_settings(bare) and bare.config["COORDINATION_PHONE"] == ""
    for each in (own, bare):
        with each.app_context():
            db.engine.dispose()


def test_outreach_run_on_the_demo_shows_its_coordination_number(demo, tmp_path):
    app, *_ = demo
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OUTREACH_INSTANCE_PATH": str(tmp_path),
           "OUTREACH_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    env.pop("OUTREACH_COORDINATION_PHONE", None)
    server = subprocess.Popen([sys.executable, "-m", "outreach", "run", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    base = f"http://127.0.0.1:{port}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        deadline = monotonic() + 60
        while True:
            try:
                browser.open(f"{base}/connexion").read()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert monotonic() < deadline, "the server did not start"
                sleep(0.2)
        login = urllib.request.Request(
            f"{base}/api/v1/session", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"login": "visiteur", "password": DEMO_PASSWORD}).encode())
        assert browser.open(login).status == 200
        home = browser.open(f"{base}/").read().decode()
        assert 'data-coordination-phone="01 99 00 00 00"' in home
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "numéro de la coordination 01 99 00 00 00" in output
