"""The activity figures' truth: a small known data set, pushed through the real sync engine,
counted here by hand (plain Python over what was pushed, not the app's queries), and compared
with the dashboard, the rapport d'activité and the CSV export.

Edge cases, named: a person met twice in the period (counted once); a record updated after a
conflict (counted once, at its current revision); a record at an older form version (personne
v1); a merged person (two files, one person); a tournée that crosses midnight (its rencontres after
midnight stay on its day); the period's boundaries (a rencontre after midnight on the first of the
month belongs to the tournée of the day before, one on the first of the next month to the last
day's tournée).
"""

import csv
import io
import re
import statistics
import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import AuditEvent, ReferenceItem, User
from outreach.figures import facts, indicators
from outreach.visits import VisitAssignment
from sync.schema import record_conflict
from tests.conftest import add_user
from tests.sync_helpers import Tablet

PARIS = ZoneInfo("Europe/Paris")
MARCH = indicators.Period(date(2026, 3, 1), date(2026, 3, 31))


def rec(form, data, at, parent=None, version=1, ident=None):
    """A record as a tablet pushes it; `at` is local time in Paris ("2026-03-10 21:00")."""
    day, hour = at.split()
    moment = f"{day}T{hour}:00+01:00"
    return {"id": ident or str(uuid.uuid4()), "form": form, "form_version": version,
            "recorded_at": moment, "parent_id": parent, "base_revision": None, "data": data}


def tournee(day, hour="20:30"):
    return rec("maraude.tournee", {"date": day, "heure_depart": hour, "secteur": "Gare",
                                   "equipe": "Ana, Léo"}, f"{day} {hour}")


def rencontre(parent, at, **data):
    base = {"lieu": {"label": "Parvis de la gare", "lat": None, "lon": None},
            "niveau": "alias" if data.get("personne") else "anonyme", "nombre_personnes": 1}
    return rec("maraude.rencontre", {**base, **data}, at, parent=parent["id"])


def person(alias, sexe=None, version=2):
    data = {"niveau": "alias", "alias_prenom": alias}
    if sexe:
        data["sexe"] = sexe
    return rec("personne", data, "2025-01-05 10:00", version=version)


@pytest.fixture
def data_set(app, auth):
    """Push the known data set through the API, as the tablets would; return what was pushed."""
    for login, role in (("mara", "maraude"), ("vero", "visiteur"), ("sofi", "travailleur_social")):
        add_user(app, login, role)
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls", position=1))
        db.session.commit()
    mara, vero, sofi = (Tablet(app.test_client(), login) for login in ("mara", "vero", "sofi"))
    momo = person("Momo", "homme", version=1)          # a record at an older form version
    nadia, jojo, jojo_bis = person("Nadia", "femme"), person("Jojo"), person("Jojo B.")
    jeanne, robert = person("Jeanne", "femme"), person("Robert", "homme")
    lulu = person("Lulu", "femme")
    t1, t2, t3, t4 = (tournee("2026-03-10"), tournee("2026-02-28"), tournee("2026-03-31"),
                      tournee("2025-03-15"))
    t5, t6 = tournee("2026-04-05"), tournee("2026-04-20")
    r3 = rencontre(t1, "2026-03-10 22:00", nombre_personnes=3, femmes=1, hommes=2,
                   tranche_age="de_26_a_40", prestations=["boisson_chaude"])
    rencontres = [
        rencontre(t1, "2026-03-10 21:00", personne=momo["id"],
                  prestations=["boisson_chaude", "repas"], besoins=["hebergement"]),
        # Past midnight: still the tournée of the 10th; Momo met twice, counted once.
        rencontre(t1, "2026-03-11 00:40", personne=momo["id"], prestations=["repas"],
                  orientations=["siao_115"], situation_urgente=True, detail_urgence="Malaise"),
        r3,
        # The first of March past midnight: the tournée of 28 February, not March.
        rencontre(t2, "2026-03-01 00:30", personne=nadia["id"], prestations=["duvet"]),
        # The first of April past midnight: the tournée of 31 March, in March.
        rencontre(t3, "2026-04-01 00:15", personne=jojo_bis["id"], prestations=["repas"]),
        rencontre(t3, "2026-03-31 21:30", personne=jojo["id"], besoins=["sante"]),
        rencontre(t4, "2025-03-15 21:00", nombre_personnes=2, prestations=["repas"]),
        # Nadia (a woman) with two others, one of them a woman: two companions, one woman.
        rencontre(t1, "2026-03-10 23:00", personne=nadia["id"], nombre_personnes=3, femmes=2,
                  tranche_age="de_41_a_60", prestations=["repas"]),
        # Lulu first met on 5 April, again on the 20th: new in April, not from the 10th.
        rencontre(t5, "2026-04-05 21:00", personne=lulu["id"]),
        rencontre(t6, "2026-04-20 21:00", personne=lulu["id"]),
    ]
    assert {r["status"] for r in mara.push(momo, nadia, jojo, jojo_bis, lulu, t1, t2, t3, t4,
                                           t5, t6, *rencontres)} == {"created"}
    # r3 was counted 3 people; a second version (4 people) came in on a stale revision: a
    # conflict, settled by the coordinateur keeping it.
    changed = {**r3, "data": {**r3["data"], "nombre_personnes": 4, "femmes": 2, "hommes": 2}}
    assert mara.push(changed)[0]["status"] == "conflict"
    auth.login("coordinateur")
    with app.app_context():
        conflict = db.session.scalar(select(record_conflict.c.id))
    assert auth.client.post(f"/conflits/{conflict}", data={
        "version": "nouvelle", "revision": "1", "csrf_token": auth.csrf_token}).status_code == 302
    rencontres[2] = changed
    # Jojo B. is Jojo: the coordinateur merges the two files.
    assert auth.client.post("/personnes/fusionner", data={
        "garder": jojo["id"], "fusionner": jojo_bis["id"],
        "csrf_token": auth.csrf_token}).status_code == 302
    for r in rencontres:
        if r["data"].get("personne") == jojo_bis["id"]:
            r["data"]["personne"] = jojo["id"]

    def visite(who, day, mode="domicile", seen="oui", alerte="aucune"):
        data = {"personne": who["id"], "date": day, "mode": mode, "personne_vue": seen,
                "alerte": alerte}
        if alerte != "aucune":
            data["detail_alerte"] = "Volets fermés, pas de réponse."
        return rec("visite.visite", data, f"{day} 15:00")

    visites = [visite(jeanne, "2026-03-02"), visite(jeanne, "2026-03-09", "telephone"),
               visite(jeanne, "2026-03-16", seen="absente", alerte="absence_reponse"),
               visite(robert, "2026-03-03"), visite(robert, "2026-04-01"),
               visite(robert, "2026-03-17", seen="refus"), visite(jeanne, "2025-03-05")]
    assert {r["status"] for r in vero.push(jeanne, robert, *visites)} == {"created"}
    # Jeanne followed since January, Robert from 20 March (so not asked for March).
    followed = {jeanne["id"]: date(2026, 1, 1), robert["id"]: date(2026, 3, 20)}
    with app.app_context():
        visiteur = db.session.scalar(select(User.id).where(User.login == "vero"))
        for n, (senior, since) in enumerate(followed.items()):
            db.session.add(VisitAssignment(
                id=str(uuid.uuid4()), person_id=senior, visiteur_id=visiteur, rhythm="hebdo",
                mode="domicile", starts_on=since, next_due=since, created_by=visiteur,
                change_seq=n + 1))
        db.session.commit()

    def session(day):
        return rec("permanence.session", {"site": "tilleuls", "date": day, "heure_debut": "14:00",
                                          "intervenants": "Sofia"}, f"{day} 14:00")

    ps1, ps2 = session("2026-03-05"), session("2025-03-06")
    accueils = [
        rec("permanence.accueil", {"niveau": "anonyme", "nombre_personnes": 2, "femmes": 2,
                                   "motifs": ["budget"], "actions": ["information"],
                                   "rendez_vous_suivi": "2026-03-20"},
            "2026-03-05 14:30", parent=ps1["id"]),
        # Nadia with her two children, one a girl: her own sex comes off the count.
        rec("permanence.accueil", {"niveau": "alias", "personne": nadia["id"],
                                   "nombre_personnes": 3, "femmes": 2,
                                   "motifs": ["logement", "budget"], "orientations": ["caf"]},
            "2026-03-05 15:00", parent=ps1["id"]),
        rec("permanence.accueil", {"niveau": "anonyme", "nombre_personnes": 1,
                                   "motifs": ["droits"]}, "2025-03-06 14:30", parent=ps2["id"]),
    ]
    # Nadia is the maraude team's: outside Sofia's work, her accueil is recorded by the office
    # on Sofia's permanence (a travailleur social may not name a file of another's work).
    assert {r["status"] for r in sofi.push(ps1, ps2, accueils[0], accueils[2])} == {"created"}
    desk = Tablet(app.test_client(), "coordinateur")
    assert desk.push(accueils[1])[0]["status"] == "created"
    authors = {"maraude": [t1, t2, t3, t4, t5, t6, *rencontres], "visiteur": visites,
               "travailleur_social": [ps1, ps2, accueils[0], accueils[2]],
               "coordinateur": [accueils[1]]}
    return {"people": [momo, nadia, jojo, jojo_bis, jeanne, robert, lulu],
            "tournees": [t1, t2, t3, t4, t5, t6], "rencontres": rencontres, "visites": visites,
            "sessions": [ps1, ps2], "accueils": accueils, "followed": followed,
            "authors": authors}


def by_hand(pushed: dict, period: indicators.Period) -> dict:
    """Count every figure of the data set by hand, over the pushed records."""
    inside = lambda day: period.start <= day <= period.end  # noqa: E731
    tournee_day = {t["id"]: date.fromisoformat(t["data"]["date"]) for t in pushed["tournees"]}
    session_day = {s["id"]: date.fromisoformat(s["data"]["date"]) for s in pushed["sessions"]}
    sexes = {p["id"]: p["data"].get("sexe") for p in pushed["people"]}
    rencontres = [r for r in pushed["rencontres"] if inside(tournee_day[r["parent_id"]])]
    accueils = [a["data"] for a in pushed["accueils"] if inside(session_day[a["parent_id"]])]

    def people(records: list[dict]) -> dict:
        """Every person of these records: named once, the others (anonymous, companions) each
        time, by sex."""
        named = {d["personne"] for d in records if d.get("personne")}
        sex = {"femme": 0, "homme": 0, "non_precise": 0}
        without_file = 0
        for d in records:
            women, men = d.get("femmes", 0), d.get("hommes", 0)
            others = d["nombre_personnes"]
            if d.get("personne"):
                others -= 1
                own = sexes[d["personne"]]
                women -= 1 if own == "femme" and women else 0
                men -= 1 if own == "homme" and men else 0
            without_file += others
            sex["femme"] += women
            sex["homme"] += men
            sex["non_precise"] += others - women - men
        for ident in named:
            sex[sexes[ident] if sexes[ident] in ("femme", "homme") else "non_precise"] += 1
        return {"named": len(named), "without_file": without_file,
                "sex": {k: v for k, v in sex.items() if v}}

    met = people([r["data"] for r in rencontres])
    received = people(accueils)
    first_met = {}
    for r in sorted(pushed["rencontres"], key=lambda r: tournee_day[r["parent_id"]]):
        if r["data"].get("personne"):
            first_met.setdefault(r["data"]["personne"], tournee_day[r["parent_id"]])
    prestations: dict[str, int] = {}
    for r in rencontres:
        for value in r["data"].get("prestations", []):
            prestations[value] = prestations.get(value, 0) + r["data"]["nombre_personnes"]
    visites = [v["data"] for v in pushed["visites"]
               if inside(date.fromisoformat(v["data"]["date"]))]
    done = [v for v in visites if v["personne_vue"] == "oui"]
    # Whole weeks, Monday to Sunday, inside the period (those it touches when it has none);
    # only those with a visite recorded count for the fewest, most and median.
    mondays = [period.start + timedelta(days=n) for n in range((period.end - period.start).days
                                                               + 1)]
    whole = [m for m in mondays if m.weekday() == 0 and m + timedelta(days=6) <= period.end]
    weeks = dict.fromkeys(whole or {d - timedelta(days=d.weekday()) for d in mondays}, 0)
    monday_of = lambda v: date.fromisoformat(v["date"]) - timedelta(  # noqa: E731
        days=date.fromisoformat(v["date"]).weekday())
    active = {monday_of(v) for v in visites} & set(weeks)
    for v in done:
        if monday_of(v) in weeks:
            weeks[monday_of(v)] += 1
    counted_weeks = [weeks[m] for m in active] or [0]
    # Regular: seen in each month they were followed on its 15th, among the months with visites.
    ran = {v["date"][:7] for v in visites}
    regular = 0
    for senior, since in pushed["followed"].items():
        asked = {m for m in ran if since <= date.fromisoformat(m + "-15")}
        seen = {v["date"][:7] for v in done if v["personne"] == senior}
        regular += bool(asked) and asked <= seen
    day_of = {**{t["id"]: tournee_day[t["id"]] for t in pushed["tournees"]},
              **{s["id"]: session_day[s["id"]] for s in pushed["sessions"]}}
    for r in [*pushed["rencontres"], *pushed["accueils"]]:
        day_of[r["id"]] = day_of[r["parent_id"]]
    for v in pushed["visites"]:
        day_of[v["id"]] = date.fromisoformat(v["data"]["date"])
    active_authors = {role: 1 for role, records in pushed["authors"].items()
                      if any(inside(day_of[r["id"]]) for r in records)}
    return {
        "maraude.tournees": sum(1 for d in tournee_day.values() if inside(d)),
        "maraude.rencontres": len(rencontres),
        "maraude.toutes": met["named"] + met["without_file"],
        "maraude.personnes": met["named"],
        "maraude.anonymes": met["without_file"],
        "maraude.nouvelles": sum(1 for d in first_met.values() if inside(d)),
        "maraude.prestations": prestations,
        "maraude.urgences": sum(1 for r in rencontres if r["data"].get("situation_urgente")),
        "maraude.sexe": met["sex"],
        "visites.enregistrees": len(visites),
        "visites.faites": len(done),
        "visites.semaine": (min(counted_weeks), max(counted_weeks),
                            statistics.median(counted_weeks), len(active)),
        "visites.seniors": len({v["personne"] for v in done}),
        "visites.reguliers": regular,
        "visites.absences": sum(1 for v in visites if v["personne_vue"] == "absente"),
        "visites.refus": sum(1 for v in visites if v["personne_vue"] == "refus"),
        "visites.alertes": {v["alerte"]: 1 for v in visites if v["alerte"] != "aucune"},
        "permanences.tenues": sum(1 for d in session_day.values() if inside(d)),
        "permanences.menages": len(accueils),
        "permanences.membres": sum(a["nombre_personnes"] for a in accueils),
        "permanences.toutes": received["named"] + received["without_file"],
        "permanences.personnes": received["named"],
        "permanences.anonymes": received["without_file"],
        "permanences.sexe": received["sex"],
        "permanences.motifs": _tally(a.get("motifs", []) for a in accueils),
        "permanences.orientations": _tally(a.get("orientations", []) for a in accueils),
        "permanences.rendez_vous": sum(1 for a in accueils if a.get("rendez_vous_suivi")),
        "equipes.actifs": active_authors,
    }


def _tally(lists) -> dict[str, int]:
    counts: dict[str, int] = {}
    for values in lists:
        for value in values:
            counts[value] = counts.get(value, 0) + 1
    return counts


def computed(app, period) -> dict:
    with app.app_context():
        facts.catch_up(db.session, PARIS)
        return indicators.compute_all(db.session, period, PARIS)


def test_every_figure_matches_the_count_by_hand(app, data_set):
    got = computed(app, MARCH)
    expected = by_hand(data_set, MARCH)
    week = got["visites.semaine"]
    assert (week["min"], week["max"], week["median"], week["active"]) == expected.pop(
        "visites.semaine")
    assert got["permanences.tenues"] == {"tilleuls": expected.pop("permanences.tenues")}
    for key, value in expected.items():
        assert got[key] == value, key
    # The figures the edge cases are about, said plainly.
    assert got["maraude.personnes"] == 3            # Momo twice, Jojo and Jojo B. merged, Nadia
    assert got["maraude.anonymes"] == 4 + 2         # the settled conflict's version; Nadia's two
    assert got["maraude.toutes"] == 9
    assert got["maraude.sexe"] == {"femme": 4, "homme": 3, "non_precise": 2}
    assert got["maraude.rencontres"] == 6           # the 28 Feb tournée's one is not in March
    assert got["maraude.tournees"] == 2
    # 4 whole weeks in March, 3 with visites (the 16th: an absence and a refusal).
    assert (week["min"], week["max"], week["median"], week["active"]) == (0, 2, 1, 3)
    assert got["visites.enregistrees"] == got["visites.faites"] + got["visites.absences"] \
        + got["visites.refus"] == 5
    assert got["visites.reguliers"] == 1            # Robert was not yet followed in March
    assert got["permanences.menages"] == 2 and got["permanences.membres"] == 5
    assert got["permanences.toutes"] == 5 and got["permanences.sexe"] == {
        "femme": 4, "non_precise": 1}
    assert got["equipes.actifs"] == {"maraude": 1, "visiteur": 1, "travailleur_social": 1,
                                     "coordinateur": 1}


def test_a_period_that_is_not_a_year_and_a_programme_that_stops(app, data_set):
    spring = indicators.Period(date(2026, 3, 1), date(2026, 5, 31))
    got, expected = computed(app, spring), by_hand(data_set, spring)
    week = got["visites.semaine"]
    assert (week["min"], week["max"], week["median"], week["active"]) == expected.pop(
        "visites.semaine")
    expected.pop("permanences.tenues")
    for key, value in expected.items():
        assert got[key] == value, key
    # No visite in May: not asked of anyone. Jeanne was not seen in April; Robert was.
    assert got["visites.reguliers"] == 1
    assert got["visites.seniors"] == 2


@pytest.mark.parametrize("start, end", [
    (date(2026, 3, 10), date(2026, 5, 20)),     # whole April, the edges from the facts
    (date(2026, 3, 2), date(2026, 3, 30)),      # no whole month at all
    (date(2026, 2, 15), date(2026, 3, 31)),     # ends with a whole month
    (date(2026, 4, 10), date(2026, 5, 20)),     # Lulu met on 5 April: not new from the 10th
])
def test_a_period_that_is_not_made_of_whole_months(app, data_set, start, end):
    period = indicators.Period(start, end)
    got, expected = computed(app, period), by_hand(data_set, period)
    expected.pop("visites.semaine")
    expected.pop("permanences.tenues")
    for key, value in expected.items():
        assert got[key] == value, key


def test_the_year_before_is_counted_the_same_way(app, data_set):
    before = MARCH.year_before()
    got, expected = computed(app, before), by_hand(data_set, before)
    assert got["maraude.tournees"] == expected["maraude.tournees"] == 1
    assert got["maraude.anonymes"] == expected["maraude.anonymes"] == 2
    assert got["visites.faites"] == expected["visites.faites"] == 1
    assert got["permanences.anonymes"] == expected["permanences.anonymes"] == 1


def test_the_dashboard_shows_the_same_figures_beside_the_year_before(app, auth, data_set):
    expected, before = by_hand(data_set, MARCH), by_hand(data_set, MARCH.year_before())
    page = auth.client.get("/tableau-de-bord?du=2026-03-01&au=2026-03-31")
    assert page.status_code == 200
    for key in ("maraude.rencontres", "maraude.toutes", "maraude.personnes", "maraude.anonymes",
                "visites.faites", "visites.refus", "visites.seniors", "visites.reguliers",
                "permanences.menages", "permanences.membres", "permanences.toutes",
                "permanences.anonymes"):
        row = re.search(rf'<tr id="{re.escape(key)}">.*?</tr>', page.text, re.S).group(0)
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert cells[:2] == [str(expected[key]), str(before[key])], key
        assert cells[2] == f"{expected[key] - before[key]:+d}"
    assert indicators.BY_KEY["maraude.personnes"].definition in page.text
    assert "Boisson chaude" in page.text and "<svg" in page.text


def test_the_report_says_each_figure_in_a_sentence(app, auth, data_set, monkeypatch):
    from outreach.figures import dashboard

    monkeypatch.setattr(dashboard, "today", lambda: date(2026, 3, 31))
    page = auth.client.get("/tableau-de-bord/rapport?annee=2026")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text).replace("&#39;", "'")
    # The year so far (to 31 March) against the same days of 2025.
    so_far = indicators.Period(date(2026, 1, 1), date(2026, 3, 31))
    now, then = by_hand(data_set, so_far), by_hand(data_set, so_far.year_before())
    for key in ("maraude.rencontres", "visites.faites", "maraude.personnes"):
        said = f"{now[key]} {indicators.SAID[key]} contre {then[key]} en 2025."
        assert said[0].upper() + said[1:] in text, said
    assert "Chiffres du 01/01/2026 au 31/03/2026 (année en cours)" in text
    # Every person met, said once; its breakdowns under it, without the total again.
    said = f"{now['maraude.toutes']} personnes rencontrées contre {then['maraude.toutes']} en 2025"
    assert text.count(said) == 1 and "Par sexe — Femme : 4 ; Homme : 3" in text
    assert text.count("personnes rencontrées contre") == 1


def test_the_report_takes_any_period(app, auth, data_set):
    page = auth.client.get("/tableau-de-bord/rapport?du=2026-03-01&au=2026-05-31")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text).replace("&#39;", "'")
    spring = indicators.Period(date(2026, 3, 1), date(2026, 5, 31))
    now, then = by_hand(data_set, spring), by_hand(data_set, spring.year_before())
    assert "Rapport d'activité du 01/03/2026 au 31/05/2026" in text
    said = (f"{now['visites.refus']} refus contre {then['visites.refus']} un an plus tôt.")
    assert said[0].upper() + said[1:] in text
    assert auth.client.get("/tableau-de-bord/rapport?du=2026-05-31&au=2026-03-01"
                           ).status_code == 400


def test_the_csv_export_has_one_row_per_record_and_labels(app, auth, data_set):
    answer = auth.client.get("/tableau-de-bord/export?formulaire=maraude.rencontre"
                             "&du=2026-03-01&au=2026-03-31")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeffDate;Saisie par;Lieu;")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == by_hand(data_set, MARCH)["maraude.rencontres"]
    assert {row["Date"] for row in rows} == {"10/03/2026", "31/03/2026"}
    repas = "Prestations remises : Repas / colis alimentaire"
    # Momo twice, Jojo B. after midnight, Nadia's group (a column per rencontre: 0 or 1)
    assert sum(int(row[repas]) for row in rows) == 4
    assert {row["Personne"] for row in rows} >= {"Momo", "Jojo"}
    assert any(row["Situation urgente"] == "Oui" for row in rows)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "figures.export"))
        assert event.target == "maraude.rencontre" and event.details["records"] == 6


@pytest.mark.parametrize("query", ["du=2026-03-31&au=2026-03-01", "mois=2026-13",
                                   "trimestre=2026-T5", "annee=deux"])
def test_a_bad_period_is_said_in_french(auth, query):
    auth.login("coordinateur")
    page = auth.client.get(f"/tableau-de-bord?{query}")
    assert page.status_code == 400
    assert "Période illisible" in page.text or "avant son début" in page.text


@pytest.mark.parametrize("role", ["maraude", "visiteur", "travailleur_social"])
@pytest.mark.parametrize("path", ["/tableau-de-bord", "/tableau-de-bord/rapport",
                                  "/tableau-de-bord/export?formulaire=maraude.rencontre"])
def test_only_the_office_sees_the_figures(auth, role, path):
    auth.login(role)
    assert auth.client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/tableau-de-bord", "/tableau-de-bord/rapport",
                                  "/tableau-de-bord/export?formulaire=maraude.rencontre"])
def test_the_figures_need_a_login(client, path):
    answer = client.get(path)
    assert answer.status_code == 302 and "/connexion" in answer.location


def test_periods_month_quarter_year(auth):
    auth.login("admin")
    for query in ("mois=2026-02", "trimestre=2026-T1", "annee=2025", ""):
        assert auth.client.get(f"/tableau-de-bord?{query}").status_code == 200
    assert indicators.Period(date(2024, 2, 29), date(2024, 3, 1)).year_before() == \
        indicators.Period(date(2023, 2, 28), date(2023, 3, 1))


PERSONAL = {"nom", "prenoms", "alias_prenom", "telephone", "adresse", "notes", "date_naissance",
            "personne", "lieu", "detail_urgence", "contact_urgence", "record_id", "id"}


def test_the_anonymised_extract_holds_counts_only_and_hides_small_ones(app, data_set, runner,
                                                                       tmp_path):
    import json

    import sqlite_utils

    from outreach.cli import main

    out = tmp_path / "observatoire.db"
    answer = runner.invoke(main, ["export-anonyme", "--annee", "2026", str(out)])
    assert answer.exit_code == 0, answer.output
    extract = sqlite_utils.Database(out)
    assert {"indicateurs", "maraude_prestations", "maraude_sexe", "registre_categories",
            "maraude_mois_secteur", "visites_par_semaine"} <= set(extract.table_names())
    for table in extract.tables:
        assert not set(table.columns_dict) & PERSONAL, table.name
        for row in table.rows:
            for column in ("nombre", "personnes", "valeur"):
                assert row.get(column) is None or not 0 < row[column] < 5, (table.name, row)
    # The data set is small: most breakdowns are merged into "Autres", or hidden.
    sexes = {row["libelle"]: row["nombre"] for row in extract["maraude_sexe"].rows}
    assert all(count >= 5 for count in sexes.values())
    figures = {row["cle"]: row["valeur"] for row in extract["indicateurs"].rows}
    assert figures["maraude.rencontres"] == 9 and figures["maraude.personnes"] is None
    # Nothing typed by a person, nor a day, nor an alias, is in the file.
    raw = out.read_bytes()
    for secret in (b"Momo", b"Malaise", b"Parvis", b"2026-03-10"):
        assert secret not in raw
    metadata = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["title"] == "Outreach — extrait anonymisé 2026"
    assert "maraude_prestations" in metadata["databases"]["observatoire"]["tables"]
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.target).where(
            AuditEvent.action == "figures.anonymous_extract")) == "2026"
    refused = runner.invoke(main, ["export-anonyme", "--annee", "2026",
                                   str(tmp_path / "absent" / "x.db")])
    assert refused.exit_code == 1 and "n'existe pas" in refused.output


def test_companions_by_sex_as_each_record_says_them(app):
    """The companions' sexes, summed by day and corrected per person, equal a record-by-record
    count."""
    import random

    from outreach.figures.models import ActivityFact

    rng = random.Random(19)
    files = {str(uuid.uuid4()): rng.choice(["femme", "homme", None]) for _ in range(12)}
    facts_rows, expected = [], {"people": 0, "femme": 0, "homme": 0}
    for n in range(300):
        person = rng.choice(list(files))
        people = rng.randint(1, 5)
        women = rng.randint(0, people)
        men = rng.randint(0, people - women)
        facts_rows.append(ActivityFact(
            record_id=str(uuid.uuid4()), form="maraude.rencontre", day=date(2026, 3, 1 + n % 28),
            person_id=person, people=people, women=women, men=men, outcome="de_26_a_40"))
        if people == 1:
            continue
        # The definition, one record at a time: the named person is taken off their own sex;
        # unknown, and everyone counted by sex, off the larger group.
        sex, others = files[person], people - 1
        women -= 1 if sex == "femme" and women else 0
        men -= 1 if sex == "homme" and men else 0
        if women + men > others:
            if women > men:
                women -= 1
            else:
                men -= 1
        expected["people"] += others
        expected["femme"] += women
        expected["homme"] += men
    with app.app_context():
        db.session.add_all(facts_rows)
        db.session.add_all(ActivityFact(record_id=ident, form="personne", day=date(2025, 1, 5),
                                        kind=sex) for ident, sex in files.items())
        facts.add_up(db.session, {(row.form, row.day) for row in facts_rows})
        db.session.commit()
        found = indicators.Figures(db.session, MARCH, PARIS).others("maraude.rencontre")
    assert (found.people, found.women, found.men) == (
        expected["people"], expected["femme"], expected["homme"])
    assert found.bands == {"de_26_a_40": expected["people"]}
