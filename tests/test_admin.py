"""/admin/utilisateurs: the admin creates accounts, changes roles, disables and resets."""

import html

import pytest
from sqlalchemy import select

from outreach.core.db import db
from outreach.core.models import AuditEvent, User


def _user(app, login):
    with app.app_context():
        return db.session.scalar(select(User).where(User.login == login))


@pytest.fixture
def admin(auth):
    auth.login("admin")
    return auth


def test_admin_creates_an_account_that_can_log_in(app, admin, client):
    response = admin.post("/admin/utilisateurs", {"login": "nadia", "name": "Nadia B.",
                                                  "role": "visiteur",
                                                  "password": "visites-du-mardi"})
    assert response.status_code == 302
    page = client.get("/admin/utilisateurs")
    assert "Compte «nadia» créé." in page.text and "Nadia B." in page.text
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
            "user.create"
        )
    admin.logout()
    assert admin.login("nadia", "visites-du-mardi").status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"login": "admin", "role": "visiteur", "password": "visites-du-mardi"}, "déjà pris"),
        ({"login": "nadia", "role": "chef", "password": "visites-du-mardi"}, "Rôle inconnu"),
        ({"login": "nadia", "role": "visiteur", "password": "court"}, "10 caractères"),
        ({"login": "", "role": "visiteur", "password": "visites-du-mardi"}, "Identifiant invalide"),
    ],
)
def test_bad_account_is_refused_in_french_and_nothing_changes(app, admin, form, message):
    response = admin.post("/admin/utilisateurs", form)
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(("password", "message"), [
    ("court", "Le mot de passe doit faire au moins 10 caractères (5 saisis)."),
    ("abababababab", "Le mot de passe répète trop les mêmes caractères : il en faut au moins "
                     "4 différents."),
    ("nadia-2026-ccas", "Le mot de passe ne doit pas contenir l'identifiant « nadia »."),
    ("Motdepasse1", "Ce mot de passe est parmi les plus courants : choisissez-en un autre."),
])
def test_a_refused_password_says_precisely_why(app, admin, password, message):
    response = admin.post("/admin/utilisateurs", {"login": "nadia", "role": "visiteur",
                                                  "password": password})
    assert response.status_code == 400 and message in html.unescape(response.text)
    target = admin.user("visiteur")
    reset = admin.post(f"/admin/utilisateurs/{target}/mot-de-passe",
                       {"password": password.replace("nadia", "visiteur")})
    assert reset.status_code == 400
    assert message.replace("nadia", "visiteur") in html.unescape(reset.text)


def test_the_role_has_no_default_and_a_missing_one_is_refused(app, admin):
    form = admin.client.get("/admin/utilisateurs").text
    assert '<select id="new-role" name="role" required><option value="" selected>' \
        'Choisissez un rôle</option>' in form
    assert 'value="maraude" selected' not in form
    for role in ("", None):
        data = {"login": "nadia", "password": "visites-du-mardi"}
        response = admin.post("/admin/utilisateurs", data if role is None else {**data,
                                                                                "role": role})
        assert response.status_code == 400
        assert "Choisissez un rôle pour ce compte." in html.unescape(response.text)
        assert "Choisissez un rôle</option>" in response.text
    assert _user(app, "nadia") is None


def test_change_role_disable_enable_reset(app, admin, client):
    target = admin.user("maraude")
    assert admin.post(f"/admin/utilisateurs/{target}/role", {"role": "coordinateur"}
                      ).status_code == 302
    assert _user(app, "maraude").role == "coordinateur"
    assert admin.post(f"/admin/utilisateurs/{target}/desactiver").status_code == 302
    assert not _user(app, "maraude").active
    assert admin.post(f"/admin/utilisateurs/{target}/activer").status_code == 302
    assert _user(app, "maraude").active
    assert admin.post(f"/admin/utilisateurs/{target}/mot-de-passe",
                      {"password": "nouveau-secret-long"}).status_code == 302
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["user.role", "user.disable", "user.enable", "user.password"]
    admin.logout()
    assert admin.login("maraude", "nouveau-secret-long").status_code == 302


def test_reset_password_logs_out_the_old_session(app, admin):
    target = admin.user("visiteur")
    other = app.test_client()
    from tests.conftest import AuthActions

    visitor = AuthActions(app, other)
    visitor.login("visiteur")
    assert other.get("/").status_code == 200
    admin.post(f"/admin/utilisateurs/{target}/mot-de-passe", {"password": "nouveau-secret-long"})
    assert other.get("/").status_code == 302


def test_weak_reset_is_refused(app, admin):
    target = admin.user("visiteur")
    response = admin.post(f"/admin/utilisateurs/{target}/mot-de-passe", {"password": "court"})
    assert response.status_code == 400 and "10 caractères" in response.text


def test_the_last_admin_cannot_be_disabled_or_demoted(app, admin):
    me = admin.user("admin")
    refused = admin.post(f"/admin/utilisateurs/{me}/desactiver")
    assert refused.status_code == 400 and "dernier administrateur" in refused.text
    demoted = admin.post(f"/admin/utilisateurs/{me}/role", {"role": "visiteur"})
    assert demoted.status_code == 400
    assert _user(app, "admin").role == "admin" and _user(app, "admin").active


def test_unknown_account_is_404(admin):
    assert admin.post("/admin/utilisateurs/999/desactiver").status_code == 404
