"""GET /api/v1/records (DESIGN §4, §9): the office reads stored records in order of last change."""

import pytest

from tests.conftest import add_user
from tests.sync_helpers import Tablet, item, rencontre


@pytest.fixture
def office(app):
    add_user(app, "maraude", "maraude")
    add_user(app, "coordinateur", "coordinateur")
    return Tablet(app.test_client(), "maraude"), Tablet(app.test_client(), "coordinateur")


def read(tablet, **query):
    answer = tablet.client.get("/api/v1/records", query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_records_in_order_of_last_change_with_cursor(office):
    agent, coordinateur = office
    sent = [item() for _ in range(5)]
    agent.push(*sent)
    first = read(coordinateur, form="maraude.rencontre", limit=3)
    assert [r["id"] for r in first["records"]] == [s["id"] for s in sent[:3]]
    assert first["more"] is True
    rest = read(coordinateur, form="maraude.rencontre", after=first["cursor"])
    assert [r["id"] for r in rest["records"]] == [s["id"] for s in sent[3:]]
    assert rest["more"] is False
    agent.push({**sent[0], "base_revision": 1, "data": rencontre(nombre_personnes=4)})
    later = read(coordinateur, form="maraude.rencontre", after=rest["cursor"])
    [updated] = later["records"]
    assert updated["id"] == sent[0]["id"] and updated["revision"] == 2
    assert set(updated) == {"id", "form", "form_version", "revision", "parent_id", "recorded_at",
                            "received_at", "recorded_by", "data"}
    assert updated["recorded_by"] == "maraude"
    assert read(coordinateur, after=later["cursor"])["records"] == []


def test_rejected_records_are_not_listed(office):
    agent, coordinateur = office
    agent.push(item(data=rencontre(nombre_personnes=0)))
    assert read(coordinateur)["records"] == []


def test_unknown_form_is_an_empty_list(office):
    assert read(office[1], form="inconnu")["records"] == []


@pytest.mark.parametrize(("limit", "status"), [("abc", 400), ("0", 400), ("-3", 400),
                                               ("5000", 200)])
def test_limit(office, limit, status):
    answer = office[1].client.get("/api/v1/records", query_string={"limit": limit})
    assert answer.status_code == status


def test_limit_above_1000_is_1000(app, office):
    agent, coordinateur = office
    for start in range(0, 1001, 500):
        agent.push(*[item() for _ in range(min(500, 1001 - start))])
    page = read(coordinateur, limit=5000)
    assert len(page["records"]) == 1000 and page["more"] is True


def test_field_roles_get_403(office):
    answer = office[0].client.get("/api/v1/records")
    assert answer.status_code == 403 and answer.is_json


def test_openapi_describes_the_protocol(office):
    answer = office[1].client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    spec = answer.json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/session", "/api/v1/sync/push", "/api/v1/sync/pull",
            "/api/v1/records"} <= set(spec["paths"])
    record = spec["components"]["schemas"]["RecordIn"]["properties"]
    assert set(record) == {"id", "form", "form_version", "recorded_at", "parent_id",
                           "base_revision", "data"}
