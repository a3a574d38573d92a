"""A form's records of a period as a French spreadsheet opens them.

`;` between columns, UTF-8 with its BOM (Excel then reads the accents), labels not codes, one
column per field of every version of the form (a field an admin retired still has its column for
the older records), a multiple choice as one 0/1 column per choice, dates as JJ/MM/AAAA.
A text that a spreadsheet would read as a formula is written with a quote before it (OWASP).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.core import catalog
from outreach.core.forms.html import show_value
from outreach.core.models import User
from outreach.core.spreadsheet import french_csv
from outreach.figures.indicators import Fact, Period
from sync.schema import record


def columns_of(form: str) -> list[tuple[dict, str | None]]:
    """Return the export's columns: (field, choice value for a multi's 0/1 column, else None)."""
    specs: dict[str, dict] = {}
    choices: dict[str, dict[str, None]] = {}
    for definition in reversed(catalog.registry().versions(form)):  # newest first
        for spec in definition.fields:
            specs.setdefault(spec["key"], spec)
            if spec["type"] == "multi":
                for choice in spec.get("choices", ()):
                    choices.setdefault(spec["key"], {}).setdefault(choice["value"])
    found = []
    for key, spec in specs.items():
        if spec["type"] == "multi":
            found += [(spec, value) for value in choices.get(key, {})]
        else:
            found.append((spec, None))
    return found


def form_csv(session: Session, form: str, period: Period) -> tuple[str, int]:
    """Return the CSV text of a form's records whose day falls in the period, and their count."""
    rows = session.execute(
        select(Fact.day, record.c.data, record.c.recorded_by)
        .join(record, record.c.id == Fact.record_id)
        .where(Fact.form == form, Fact.day >= period.start, Fact.day <= period.end)
        .order_by(Fact.day, record.c.recorded_at)).all()
    columns = columns_of(form)
    labels = catalog.labels_of_every_version(form)
    people = {ident: catalog.person_label(data) for ident, data in session.execute(
        select(record.c.id, record.c.data).where(record.c.form == "personne"))}
    authors = dict(session.execute(select(User.id, User.name)).all())
    header = ["Date", "Saisie par"]
    for spec, value in columns:
        header.append(f"{spec['label']} : {labels.get(spec['key'], {}).get(value, value)}"
                      if value is not None else spec["label"])
    lines = []
    for day, data, author in rows:
        line = [day.strftime("%d/%m/%Y"), authors.get(author, "")]
        for spec, value in columns:
            stored = data.get(spec["key"])
            if value is not None:
                line.append(1 if value in (stored or ()) else 0)
            elif stored in (None, "", []):
                line.append("")
            elif spec["type"] in ("integer", "counter") and isinstance(stored, int):
                line.append(stored)  # a number stays a number, a negative one too
            else:
                line.append(show_value(spec, stored, labels.get(spec["key"]), people)
                            .replace("\r", " ").replace("\n", " "))
        lines.append(line)
    return french_csv(header, lines), len(rows)
