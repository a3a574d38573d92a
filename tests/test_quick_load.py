"""The quick check of a record's data says exactly what marshmallow's load says (issue 18).

Pushes check every record through `QuickLoad`, and go through the marshmallow schema only for
the messages of data that has an error. Whatever data comes, both must agree: the same clean
data when it passes, a refusal by both when it does not.
"""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from test_forms import FULL, MINIMAL, SITES

from outreach.core.forms import FormRegistry, load_definitions

REGISTRY = FormRegistry(load_definitions(), lambda key: SITES if key == "sites" else ())
FORMS = sorted(FULL)
# Values every field type may meet on the wire, right or wrong for it.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=False),
    st.sampled_from(["", "  ", "2026-02-30", "2026-01-15", "25:00", "20:00", "anonyme",
                     "boisson_chaude", "06 12 34 56 78", "x" * 501, "6f1c2a34-8d7e-4b5a-9c01",
                     "6F1C2A34-8D7E-4B5A-9C01-23456789ABCD", "2026-01-15T20:00:00",
                     "2026-01-15T20:00:00+01:00", "mairie_annexe"]),
    st.lists(st.sampled_from(["boisson_chaude", "duvet", "logement", "inconnu", ""]),
             max_size=3),
    st.fixed_dictionaries({"label": st.sampled_from(["Gare", " ", "x" * 201])},
                          optional={"lat": st.floats(-100, 100), "lon": st.floats(-200, 200),
                                    "alt": st.just(1)}),
)


def marshmallow_load(definition, data):
    """What the schema alone says: the clean data, or None when it refuses."""
    try:
        return definition.schema.load(data)
    except ValidationError:
        return None


@st.composite
def record_data(draw):
    """A form and data made from one of its valid records, some answers changed or dropped."""
    form = draw(st.sampled_from(FORMS))
    data = copy.deepcopy(draw(st.sampled_from([FULL[form], MINIMAL[form]])))
    keys = [spec["key"] for spec in REGISTRY.current(form).fields]
    for key in draw(st.lists(st.sampled_from(keys), max_size=3)):
        if draw(st.booleans()):
            data.pop(key, None)
        else:
            data[key] = draw(ODD)
    if draw(st.integers(0, 9)) == 0:
        data["champ_inconnu"] = 1
    return form, data


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(record_data())
def test_the_quick_check_agrees_with_marshmallow(found):
    form, data = found
    definition = REGISTRY.current(form)
    assert definition.quick_load(copy.deepcopy(data)) == marshmallow_load(definition, data)


def test_valid_records_pass_the_quick_check_and_invalid_ones_do_not():
    for form in FORMS:
        definition = REGISTRY.current(form)
        for data in (FULL[form], MINIMAL[form]):
            assert definition.quick_load(data) == definition.schema.load(data)
    rencontre = REGISTRY.current("maraude.rencontre")
    assert rencontre.quick_load(["pas", "un", "objet"]) is None
    assert rencontre.quick_load({**MINIMAL["maraude.rencontre"], "femmes": 2}) is None
    assert rencontre.quick_load({**MINIMAL["maraude.rencontre"], "inconnu": 1}) is None
    assert rencontre.quick_load({"niveau": "anonyme", "nombre_personnes": 1}) is None
