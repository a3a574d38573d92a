"""/planning: seniors given to visiteurs, the weeks done, planned and missed, and reassignment."""

from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select, update

from outreach.core.db import db
from outreach.core.models import AccessChange, AuditEvent, Record, User
from outreach.visits import planning
from outreach.visits.models import VisitAssignment
from sync import sequence
from tests.conftest import AuthActions, add_user

TODAY = date(2026, 11, 25)  # a Wednesday: this week starts on Monday 23/11
ROLES = ("maraude", "visiteur", "travailleur_social", "coordinateur", "admin")


# --- Helpers: the office, seniors and visites made the way people make them -------------------


@pytest.fixture
def office(app, auth, monkeypatch):
    monkeypatch.setattr(planning, "today", lambda: TODAY)
    ids = {login: add_user(app, login, "visiteur") for login in ("vera", "victor")}
    ids["gone"] = add_user(app, "gone", "visiteur", active=False)
    ids["marc"] = add_user(app, "marc", "maraude")
    auth.login("coordinateur")
    return {"ids": ids, "senior": senior(app, auth, "Jeanne")}


def senior(app, auth, alias: str) -> str:
    """Make a personne record through the entry page; return its id."""
    response = auth.post("/saisie/personne", {"niveau": "alias", "alias_prenom": alias})
    assert response.status_code == 302
    with app.app_context():
        return db.session.scalar(select(Record.id).where(
            Record.form == "personne", Record.data["alias_prenom"].as_string() == alias))


def as_user(app, login: str) -> AuthActions:
    """Log a second person in, on their own client."""
    other = AuthActions(app, app.test_client())
    assert other.login(login).status_code == 302
    return other


def visite(app, login: str, person: str, day: date, **data) -> str:
    """Save a visite as the visiteur does on the entry page; return its id."""
    response = as_user(app, login).post("/saisie/visite.visite", {
        "personne": person, "date": day.isoformat(), "mode": "domicile",
        "personne_vue": "oui", "alerte": "aucune", **data})
    assert response.status_code == 302, response.text
    with app.app_context():
        return db.session.scalar(select(Record.id).where(
            Record.form == "visite.visite", Record.data["date"].as_string() == day.isoformat()))


def rows_of(app, model=VisitAssignment):
    with app.app_context():
        found = list(db.session.scalars(select(model).order_by(model.id)))
        db.session.expunge_all()
        return found


def state_of(app) -> tuple:
    """Everything a planning change writes: to compare before and after a refused one."""
    with app.app_context():
        return (
            [(a.id, a.visiteur_id, a.active, a.revision, a.change_seq)
             for a in db.session.scalars(select(VisitAssignment).order_by(VisitAssignment.id))],
            db.session.scalar(select(func.count()).select_from(AccessChange)),
            sequence.current(db.session),
        )


def assign_form(office, **changes) -> dict:
    return {"personne": office["senior"], "visiteur": str(office["ids"]["vera"]),
            "rythme": "hebdomadaire", "mode": "domicile", "debut": "2026-11-02", **changes}


def assigned(auth, office, **changes) -> None:
    response = auth.post("/planning/affecter", assign_form(office, **changes))
    assert response.status_code == 302, response.text


class Tables(HTMLParser):
    """Read the planning's tables: for each, its caption and rows of (text, link) cells."""

    def __init__(self, html: str):
        super().__init__()
        self.tables, self.cell, self.hidden = [], None, 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag == "caption":
            self.cell = {"text": "", "link": None, "caption": True}
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self.cell = {"text": "", "link": None, "scope": attrs.get("scope")}
        elif tag == "a" and self.cell is not None:
            self.cell["link"] = attrs["href"]
        if tag in ("br", "input", "option"):
            return
        if self.hidden or tag in ("form", "select") or attrs.get("aria-hidden") == "true":
            self.hidden += 1  # what a screen reader skips: the forms, the short week names

    def handle_endtag(self, tag):
        if self.hidden and tag not in ("br", "input", "option"):
            self.hidden -= 1
        if tag == "caption":
            self.tables[-1]["caption"], self.cell = self.cell["text"].strip(), None
        elif tag in ("td", "th") and self.cell is not None:
            self.cell["text"] = " ".join(self.cell["text"].split())
            self.tables[-1]["rows"][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None and not self.hidden:
            self.cell["text"] += data


def weeks_of(page: str, name: str) -> list[str]:
    """Return the words of the week cells of one senior's row."""
    for table in Tables(page).tables:
        for row in table["rows"]:
            if row and row[0]["text"] == name and row[0]["scope"] == "row":
                return [cell["text"] for cell in row[4:-1]]
    raise AssertionError(f"no row for {name}")


# --- Assigning ---------------------------------------------------------------------------------


def test_the_form_has_a_label_for_every_field_and_starts_today(office, client):
    page = client.get("/planning/affecter").text
    for ident, label in (("personne", "Senior"), ("visiteur", "Visiteur"), ("rythme", "Rythme"),
                         ("mode", "Mode"), ("debut", "À partir du")):
        assert f'<label for="{ident}">{label}</label>' in page
    assert 'name="debut" value="2026-11-25"' in page
    assert ">Jeanne</option>" in page and ">Vera</option>" in page
    assert ">Gone</option>" not in page and ">Marc</option>" not in page  # active visiteurs only


def test_assigning_makes_the_first_visit_due_and_tells_the_tablet(app, office, auth):
    response = auth.post("/planning/affecter", assign_form(office), follow_redirects=True)
    assert "Senior affecté à Vera." in response.text
    [row] = rows_of(app)
    assert (row.person_id, row.visiteur_id, row.rhythm, row.mode) == (
        office["senior"], office["ids"]["vera"], "hebdomadaire", "domicile")
    assert (row.starts_on, row.next_due, row.active, row.revision) == (
        date(2026, 11, 2), date(2026, 11, 2), True, 1)
    [seen] = rows_of(app, AccessChange)
    assert (seen.user_id, seen.person_id) == (office["ids"]["vera"], office["senior"])
    assert seen.change_seq > row.change_seq > 0
    [event] = [e for e in rows_of(app, AuditEvent) if e.action.startswith("planning.")]
    assert (event.action, event.target) == ("planning.assign", row.id)
    assert "Jeanne" not in str(event.details)  # identifiers only


def deleted_senior(app, auth) -> str:
    # No page deletes a person; a merge or a purge leaves the record marked so.
    ident = senior(app, auth, "Effacée")
    with app.app_context():
        db.session.execute(update(Record).where(Record.id == ident).values(deleted=True))
        db.session.commit()
    return ident


@pytest.mark.parametrize("change, field, message", [
    ({"personne": ""}, "personne", "Choisissez un senior."),
    ({"personne": "6f1c2a34-8d7e-4b5a-9c01-23456789abcd"}, "personne", "Choisissez un senior."),
    ({"personne": "deleted"}, "personne", "Choisissez un senior."),
    ({"visiteur": ""}, "visiteur", "Choisissez un visiteur."),
    ({"visiteur": "marc"}, "visiteur", "Choisissez un visiteur."),
    ({"visiteur": "gone"}, "visiteur",
     "Le compte de Gone est désactivé : choisissez un visiteur actif."),
    ({"rythme": "annuel"}, "rythme", "Choisissez un rythme."),
    ({"rythme": ""}, "rythme", "Choisissez un rythme."),
    ({"mode": "visio"}, "mode", "Choisissez à domicile ou par téléphone."),
    ({"debut": "2026-02-30"}, "debut", "Date invalide (AAAA-MM-JJ)."),
    ({"debut": ""}, "debut", "Indiquez la date de la première visite."),
])
def test_each_bad_answer_is_refused_beside_its_field(app, office, auth, change, field, message):
    if change.get("personne") == "deleted":
        change = {"personne": deleted_senior(app, auth)}
    if change.get("visiteur") in office["ids"]:
        change = {"visiteur": str(office["ids"][change["visiteur"]])}
    before = state_of(app)
    response = auth.post("/planning/affecter", assign_form(office, **change))
    assert response.status_code == 400
    page = response.text.replace("&#39;", "'")
    assert f'<p class="error" id="erreur-{field}">{message}</p>' in page
    assert f'aria-describedby="erreur-{field}"' in page
    assert "Rien n'est enregistré : corrigez 1 champ." in page
    assert state_of(app) == before and rows_of(app) == []


def test_every_wrong_field_is_shown_at_once_with_the_answers_kept(app, office, auth):
    response = auth.post("/planning/affecter", assign_form(
        office, visiteur="", rythme="", debut="bientôt"))
    assert response.status_code == 400
    page = response.text.replace("&#39;", "'")
    assert "Rien n'est enregistré : corrigez 3 champs." in page
    for field in ("visiteur", "rythme", "debut"):
        assert f'id="erreur-{field}"' in page
    assert f'<option value="{office["senior"]}" selected>Jeanne</option>' in page
    assert '<option value="domicile" selected>' in page
    assert rows_of(app) == []


def test_the_same_senior_twice_to_the_same_visiteur_is_refused(app, office, auth):
    assigned(auth, office)
    before = state_of(app)
    twice = auth.post("/planning/affecter", assign_form(office, rythme="mensuel"))
    assert twice.status_code == 400
    assert "Ce senior est déjà confié à ce visiteur." in twice.text
    assert state_of(app) == before
    assigned(auth, office, visiteur=str(office["ids"]["victor"]))  # another visiteur: yes
    assert len(rows_of(app)) == 2


def test_the_service_refuses_before_writing_anything(app, office):
    with app.app_context():
        with pytest.raises(planning.PlanningError) as refused:
            planning.assign(db.session, office["senior"], office["ids"]["vera"], "annuel",
                            "visio", TODAY, office["ids"]["vera"])
        assert refused.value.field == "rythme"
        assert refused.value.errors == {"rythme": "Choisissez un rythme.",
                                        "mode": "Choisissez à domicile ou par téléphone."}
        assert not db.session.new and not db.session.dirty


# --- The weeks ---------------------------------------------------------------------------------


def test_a_visite_moves_the_next_one_and_its_week_says_done(app, office, auth, client):
    assigned(auth, office, debut="2026-11-23")
    visit = visite(app, "vera", office["senior"], date(2026, 11, 24))
    [row] = rows_of(app)
    assert (row.last_visit_id, row.next_due) == (visit, date(2026, 12, 1))  # moved by follow
    page = client.get("/planning").text
    # Weeks from 26/10 to 21/12; this one (23/11) done, the next ones planned at the rhythm.
    assert weeks_of(page, "Jeanne") == ["", "", "", "", "fait", "prévue", "prévue", "prévue",
                                        "prévue"]
    done = [cell for table in Tables(page).tables for r in table["rows"] for cell in r
            if cell["text"] == "fait"]
    assert [cell["link"] for cell in done] == [f"/fiches/{visit}"]
    assert "01/12/2026" in page and "(en retard)" not in page
    assert "<strong>1</strong> visite faite cette semaine" in page
    assert "<strong>0</strong> visite prévue cette semaine" in page


@pytest.mark.parametrize("alerte", ["aucune", "absence_reponse"])
@pytest.mark.parametrize("answer, word", [("absente", "absente"), ("refus", "refus")])
def test_a_visite_that_did_not_see_the_senior_keeps_them_due_and_says_so(
        app, office, auth, client, answer, word, alerte):
    assigned(auth, office, debut="2026-11-16")
    visit = visite(app, "vera", office["senior"], date(2026, 11, 24), personne_vue=answer,
                   alerte=alerte)
    [row] = rows_of(app)
    assert (row.last_visit_id, row.next_due) == (None, date(2026, 11, 16))  # still due
    page = client.get("/planning").text
    # 16/11 missed; this week's visite did not see her: its week says so, and she is due.
    assert weeks_of(page, "Jeanne") == ["", "", "", "manquée", word, "prévue", "prévue",
                                        "prévue", "prévue"]
    assert f'<a href="/fiches/{visit}">{word}</a>' in page
    assert "16/11/2026 (en retard)" in page
    assert "<strong>0</strong> visite faite cette semaine" in page
    assert "<strong>1</strong> visite prévue cette semaine" in page


def test_a_senior_not_seen_moves_on_only_to_the_next_visit_set(app, office, auth, client):
    assigned(auth, office, debut="2026-11-16")
    visit = visite(app, "vera", office["senior"], date(2026, 11, 24), personne_vue="absente",
                   prochaine_visite="2026-11-27")
    [row] = rows_of(app)
    assert (row.last_visit_id, row.next_due) == (visit, date(2026, 11, 27))
    assert "(en retard)" not in client.get("/planning").text


def test_a_visite_corrected_to_not_seen_no_longer_moves_the_plan(app, office, auth):
    assigned(auth, office, debut="2026-11-09")
    first = visite(app, "vera", office["senior"], date(2026, 11, 10))
    second = visite(app, "vera", office["senior"], date(2026, 11, 24))
    assert rows_of(app)[0].next_due == date(2026, 12, 1)
    vera = as_user(app, "vera")
    page = vera.client.get(f"/modifier/{second}").text
    response = vera.post(f"/modifier/{second}", {
        "personne": office["senior"], "date": "2026-11-24", "mode": "domicile",
        "personne_vue": "absente", "alerte": "aucune", "base_revision": "1"})
    assert response.status_code == 302, page
    [row] = rows_of(app)
    # Back to the visite that saw her on 10/11: due a week after it, late now.
    assert (row.last_visit_id, row.next_due) == (first, date(2026, 11, 17))


def test_a_visit_due_two_weeks_ago_and_not_made_is_missed_and_overdue(app, office, auth, client):
    assigned(auth, office, debut="2026-11-11")
    page = client.get("/planning").text
    assert weeks_of(page, "Jeanne") == ["", "", "manquée", "manquée", "prévue", "prévue",
                                        "prévue", "prévue", "prévue"]
    assert "11/11/2026 (en retard)" in page
    assert "<strong>1</strong> en retard" in page
    assert "<strong>1</strong> visite prévue cette semaine" in page
    assert "<strong>0</strong> visite faite cette semaine" in page


def test_a_late_visit_keeps_its_due_day_and_the_rhythm_follows_it(app, office, auth, client):
    # Every fortnight from Monday 05/10: due 05/10, 19/10, 02/11, 16/11…
    assigned(auth, office, rythme="quinzaine", debut="2026-10-05")
    late = visite(app, "vera", office["senior"], date(2026, 10, 14))  # late for 05/10
    visite(app, "vera", office["senior"], date(2026, 10, 28))  # within 19/10's fortnight
    page = client.get("/planning?du=2026-09-28").text
    # 28/09 before the start; 05/10 caught up late; 02/11 and 16/11 nothing came; late now
    # (due 11/11): this week, then a fortnight after today.
    assert weeks_of(page, "Jeanne") == ["", "", "fait", "", "fait", "manquée", "", "manquée",
                                        "prévue"]
    assert f"/fiches/{late}" in page
    assert "11/11/2026 (en retard)" in page


def test_a_visit_by_someone_else_counts_as_done(app, office, auth, client):
    assigned(auth, office, debut="2026-11-16")
    assigned(auth, office, visiteur=str(office["ids"]["victor"]), debut="2026-11-16")
    visite(app, "victor", office["senior"], date(2026, 11, 17))
    page = client.get("/planning").text
    tables = {t["caption"]: t for t in Tables(page).tables}
    assert set(tables) == {"Visites de Vera, semaine par semaine",
                           "Visites de Victor, semaine par semaine"}
    for rows in (t["rows"] for t in tables.values()):
        [row] = [r for r in rows if r and r[0]["scope"] == "row"]
        assert [c["text"] for c in row[4:-1]][3] == "fait"


@pytest.mark.parametrize("query, first, last, error", [
    ("", "26/10/2026", "21/12/2026", None),
    ("?semaine=2026-W40", "31/08/2026", "26/10/2026", None),
    ("?du=2026-10-01", "28/09/2026", "23/11/2026", None),
    ("?semaine=2026-W60", "26/10/2026", "21/12/2026",
     "Semaine invalide (AAAA-Wss, par exemple 2026-W48) : voici les semaines autour "
     "d'aujourd'hui."),
    ("?du=demain", "26/10/2026", "21/12/2026",
     "Date invalide (AAAA-MM-JJ) : voici les semaines autour d'aujourd'hui."),
    ("?du=9999-12-31", "26/10/2026", "21/12/2026",
     "Date invalide (AAAA-MM-JJ) : voici les semaines autour d'aujourd'hui."),
])
def test_the_window_moves_by_week_or_day(app, office, auth, client, query, first, last, error):
    assigned(auth, office)
    response = client.get(f"/planning{query}")
    assert response.status_code == 200
    page = response.text.replace("&#39;", "'")
    heads = [c["text"] for c in Tables(page).tables[0]["rows"][0] if "Semaine du" in c["text"]]
    assert len(heads) == 9
    assert first in heads[0] and last in heads[-1]
    kept = 'type="hidden" name="du"' in page  # the forms come back to the weeks asked for
    assert kept == bool(query and not error)
    if error:
        assert f'<p class="error" role="alert">{error}</p>' in page
    else:
        assert 'role="alert"' not in page.split("<main")[1]


def test_the_table_is_readable_without_colour(app, office, auth, client):
    assigned(auth, office)
    page = client.get("/planning").text
    [table] = Tables(page).tables
    assert table["caption"] == "Visites de Vera, semaine par semaine"
    head = table["rows"][0]
    assert [c["text"] for c in head[:4]] == ["Senior", "Rythme", "Mode", "Prochaine visite"]
    assert all(c["scope"] == "col" for c in head)
    assert "Semaine du 23/11/2026 (cette semaine)" in [c["text"] for c in head]
    row = table["rows"][1]
    assert (row[0]["scope"], row[1]["text"], row[2]["text"]) == (
        "row", "Chaque semaine", "À domicile")
    assert '<label for="nouveau-' in page and ">Nouveau visiteur</label>" in page


# --- Reassigning and ending --------------------------------------------------------------------


def test_reassigning_moves_the_senior_and_both_tablets_hear_of_it(app, office, auth):
    assigned(auth, office, rythme="quinzaine", mode="telephone")
    [first] = rows_of(app)
    response = auth.post(f"/planning/{first.id}/reaffecter",
                         {"nouveau_visiteur": office["ids"]["victor"], "du": "2026-10-05"})
    assert response.headers["Location"] == "/planning?du=2026-10-05"  # back to the same weeks
    assert "Senior réaffecté à Victor." in auth.client.get(response.headers["Location"]).text
    old, new = sorted(rows_of(app), key=lambda a: a.active)
    assert (old.id, old.active, old.ended_on, old.revision) == (first.id, False, TODAY, 2)
    assert (new.person_id, new.visiteur_id, new.rhythm, new.mode, new.next_due, new.active) == (
        office["senior"], office["ids"]["victor"], "quinzaine", "telephone", first.next_due, True)
    assert new.starts_on == TODAY and old.change_seq > first.change_seq
    told = [(c.user_id, c.person_id) for c in rows_of(app, AccessChange)]
    assert sorted(told) == sorted([(office["ids"]["vera"], office["senior"])] * 2
                                  + [(office["ids"]["victor"], office["senior"])])
    event = [e for e in rows_of(app, AuditEvent) if e.action == "planning.reassign"]
    assert [(e.target, e.details["previous"]) for e in event] == [(new.id, first.id)]


@pytest.mark.parametrize("target, message", [
    ("vera", "Choisissez un autre visiteur."),
    ("gone", "Le compte de Gone est désactivé : choisissez un visiteur actif."),
    ("marc", "Choisissez un visiteur."),
    ("", "Choisissez un visiteur."),
    ("victor", "Ce senior est déjà confié à Victor : terminez plutôt cette affectation."),
])
def test_an_impossible_reassignment_says_why_and_changes_nothing(app, office, auth, target,
                                                                 message):
    assigned(auth, office)
    if target == "victor":
        assigned(auth, office, visiteur=str(office["ids"]["victor"]))
    [vera_s] = [a for a in rows_of(app) if a.visiteur_id == office["ids"]["vera"]]
    before = state_of(app)
    response = auth.post(f"/planning/{vera_s.id}/reaffecter",
                         {"nouveau_visiteur": office["ids"].get(target, "")},
                         follow_redirects=True)
    assert f"Rien n'a changé : {message}" in response.text.replace("&#39;", "'")
    assert state_of(app) == before


def test_the_service_leaves_the_session_untouched_when_it_refuses(app, office, auth):
    assigned(auth, office)
    assigned(auth, office, visiteur=str(office["ids"]["victor"]))
    with app.app_context():
        vera_s = db.session.scalar(select(VisitAssignment).where(
            VisitAssignment.visiteur_id == office["ids"]["vera"]))
        with pytest.raises(planning.PlanningError):
            planning.reassign(db.session, vera_s, office["ids"]["victor"], office["ids"]["vera"])
        assert vera_s.active and vera_s.revision == 1
        assert not db.session.new and not db.session.dirty


def test_ending_an_assignment_and_the_impossible_ones(app, office, auth):
    assigned(auth, office)
    [first] = rows_of(app)
    done = auth.post(f"/planning/{first.id}/terminer", follow_redirects=True)
    assert "Affectation terminée : Vera ne visite plus ce senior." in done.text
    [ended] = rows_of(app)
    assert (ended.active, ended.ended_on, ended.revision) == (False, TODAY, 2)
    assert [c.user_id for c in rows_of(app, AccessChange)] == [office["ids"]["vera"]] * 2
    assert "planning.end" in [e.action for e in rows_of(app, AuditEvent)]
    before = state_of(app)
    for action in ("terminer", "reaffecter"):
        again = auth.post(f"/planning/{first.id}/{action}",
                          {"nouveau_visiteur": office["ids"]["victor"]}, follow_redirects=True)
        assert "Rien n&#39;a changé : Cette affectation est déjà terminée." in again.text
        assert auth.post(f"/planning/inconnue/{action}").status_code == 404
    assert state_of(app) == before
    assert "Aucun senior n'est confié" in auth.client.get("/planning").text


def test_a_volunteer_who_stops_hands_all_their_seniors_over(app, office, auth):
    other = senior(app, auth, "Paul")
    assigned(auth, office)
    assigned(auth, office, personne=other, rythme="mensuel")
    assigned(auth, office, personne=other, visiteur=str(office["ids"]["victor"]))
    with app.app_context():  # Vera stopped: her account is already disabled
        db.session.execute(update(User).where(User.id == office["ids"]["vera"])
                           .values(active=False))
        db.session.commit()
    page = auth.client.get("/planning").text
    assert "Vera (compte désactivé)" in page
    response = auth.post(f"/planning/visiteur/{office['ids']['vera']}/tout-reaffecter",
                         {"nouveau_visiteur": office["ids"]["victor"]}, follow_redirects=True)
    assert ("2 seniors de Vera réaffectés à Victor. Victor en visitait déjà 1 : seule "
            "l&#39;affectation de Vera est terminée.") in response.text
    active = [a for a in rows_of(app) if a.active]
    assert sorted((a.person_id, a.visiteur_id) for a in active) == sorted(
        [(office["senior"], office["ids"]["victor"]), (other, office["ids"]["victor"])])
    assert all(not a.active for a in rows_of(app) if a.visiteur_id == office["ids"]["vera"])
    actions = sorted(e.action for e in rows_of(app, AuditEvent) if e.action != "planning.assign"
                     and e.action.startswith("planning."))
    assert actions == ["planning.end", "planning.reassign"]
    told = [c.user_id for c in rows_of(app, AccessChange)]
    assert told.count(office["ids"]["vera"]) == 4 and told.count(office["ids"]["victor"]) == 2


@pytest.mark.parametrize("leaving, target, message", [
    ("vera", "vera", "Choisissez un autre visiteur."),
    ("vera", "gone", "Le compte de Gone est désactivé : choisissez un visiteur actif."),
    ("vera", "", "Choisissez un visiteur."),
    ("victor", "vera", "Ce visiteur n'a aucun senior à réaffecter."),
])
def test_an_impossible_hand_over_says_why_and_changes_nothing(app, office, auth, leaving,
                                                             target, message):
    assigned(auth, office)
    before = state_of(app)
    response = auth.post(f"/planning/visiteur/{office['ids'][leaving]}/tout-reaffecter",
                         {"nouveau_visiteur": office["ids"].get(target, "")},
                         follow_redirects=True)
    assert f"Rien n'a changé : {message}" in response.text.replace("&#39;", "'")
    assert state_of(app) == before


def test_handing_over_from_an_unknown_or_a_non_visiteur_is_not_found(office, auth):
    for user_id in (office["ids"]["marc"], 9999):
        response = auth.post(f"/planning/visiteur/{user_id}/tout-reaffecter",
                             {"nouveau_visiteur": office["ids"]["victor"]})
        assert response.status_code == 404


# --- Who may plan ------------------------------------------------------------------------------


def routes(app, office) -> list[tuple[str, str, dict]]:
    [row] = [a for a in rows_of(app) if a.active]
    return [
        ("get", "/planning", {}),
        ("get", "/planning/affecter", {}),
        ("post", "/planning/affecter", assign_form(office, visiteur=str(office["ids"]["victor"]))),
        ("post", f"/planning/{row.id}/reaffecter", {"nouveau_visiteur": office["ids"]["victor"]}),
        ("post", f"/planning/{row.id}/terminer", {}),
        ("post", f"/planning/visiteur/{office['ids']['vera']}/tout-reaffecter",
         {"nouveau_visiteur": office["ids"]["victor"]}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_plans(app, office, auth, role):
    assigned(auth, office)
    person = as_user(app, role)
    if role not in ("coordinateur", "admin"):
        before = state_of(app)
        for method, url, data in routes(app, office):
            response = person.client.get(url) if method == "get" else person.post(url, data)
            assert response.status_code == 403, (method, url)
        assert state_of(app) == before
        return
    vera, victor = office["ids"]["vera"], office["ids"]["victor"]
    assert person.client.get("/planning").status_code == 200
    assert person.client.get("/planning/affecter").status_code == 200
    assert person.post("/planning/affecter", assign_form(office, visiteur=victor)).status_code \
        == 302
    [victor_s] = [a for a in rows_of(app) if a.visiteur_id == victor]
    assert person.post(f"/planning/{victor_s.id}/terminer").status_code == 302
    [vera_s] = [a for a in rows_of(app) if a.visiteur_id == vera]
    assert person.post(f"/planning/{vera_s.id}/reaffecter",
                       {"nouveau_visiteur": victor}).status_code == 302
    assert person.post(f"/planning/visiteur/{victor}/tout-reaffecter",
                       {"nouveau_visiteur": vera}).status_code == 302
    [now] = [a for a in rows_of(app) if a.active]
    assert now.visiteur_id == vera and len(rows_of(app)) == 4


def test_without_a_session_every_route_leads_to_the_login(app, office, auth):
    assigned(auth, office)
    anonymous = app.test_client()
    for method, url, data in routes(app, office):
        response = getattr(anonymous, method)(url, data=data)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion"), url
    assert "/connexion?suivant=/planning" in anonymous.get("/planning").headers["Location"]
