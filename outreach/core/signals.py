"""The core's extension points: a feature plugs into Outreach only through these signals.

The core sends them and never imports a feature; each feature's package connects its receivers
when it is imported (the way Indico's modules connect to `indico.core.signals`, with Flask's own
blinker), so that what they add holds before any app is built (the API's description lists the
pull's kinds at import). A receiver is a module-level function: blinker keeps weak references.
A receiver takes the sender first and every other argument by name, and accepts `**kwargs` so
that an argument added later breaks nobody. Where the core uses what receivers return,
`gathered` collects it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from blinker import Namespace

_signals = Namespace()

records_stored = _signals.signal("records-stored", """
Sent by the core's follow-up (`storing.catch_up`) once per batch of records stored by any path
(a tablet's push, online entry, an import, a correction, a conflict settled), after the records
were committed and in the order of the server sequence. The *sender* is the database session;
`records` is the list of rows changed (`id, form, data, recorded_by, recorded_at, received_at,
deleted`), removed ones included. A receiver works on the whole list (no query per record), is
idempotent (the same batch may come again after a failure) and returns nothing; the core commits
what receivers wrote together with the mark of what was followed.
""")

records_refused = _signals.signal("records-refused", """
Sent by `storing.store` for the records refused only for whom they name (their author may not see
that person): they wait in quarantine, but what they say may not wait. The *sender* is the session,
`items` the refused items as pushed, `author` the id of the person who recorded them. The core
commits after; receivers return nothing.
""")

record_checked = _signals.signal("record-checked", """
Sent by the sync engine's forms (`catalog.EngineForms.may_store`) before storing a record whose
people may be named. The *sender* is the form key (connect with `connect_via(form_key)`);
`session`, `item` (the pushed item) and `actor`. A receiver returns the errors that keep the record
from being stored (field key → French messages), an empty dict or None when it may be stored.
""")

record_shared = _signals.signal("record-shared", """
Sent when someone changes a record another person made. The *sender* is the form key; `session`,
`stored` (the stored record, a dict) and `actor`. A receiver returns True when that record is this
actor's to change too (a round shared by its team, a plan call given to several agents): what a
person may record beyond their own records and their role's forms.
""")

person_merged = _signals.signal("person-merged", """
Sent by the people feature's merge while it merges file `merged_id` into `kept_id`, before the
caller commits. The *sender* is the session; `actor`, `kept_id`, `merged_id`. A receiver moves its
own rows that name the merged file and returns a `Moved` (what it moved, by id, to put back on undo,
and whose tablets must hear of it), even when it moved nothing.
""")

merge_undone = _signals.signal("merge-undone", """
Sent by the people feature when a merge is undone, before the caller commits. The *sender* is the
session; `actor`, `kept_id`, `merged_id` and `moved` (what the merge noted: `Moved.key` → ids). A
receiver puts back the rows it moved that still name the kept file and returns the ids of the
people whose tablets must hear of it (a set of user ids), or None.
""")

person_rows = _signals.signal("person-rows", """
Sent when the audit trail of one person is read. The *sender* is the person id. A receiver
returns a SELECT of the ids of its own rows about that person (alerts, assignments), whose audit
events belong to the person's trail too.
""")

pull_kinds = _signals.signal("pull-kinds", """
Sent when the pull is built or described (`every_pull_kind()`), with no sender. A receiver
returns a dict of kind name → `sync.pull.KindReader`: what the pull carries beside records
(DESIGN §4), read under the pull's one cursor.
""")

offline_pages = _signals.signal("offline-pages", """
Sent when the service worker is told which pages to keep for use with no network (DESIGN §7).
The *sender* is the person logged in (a `User`); `forms`, the keys of the forms they may fill. A
receiver returns a list of paths.
""")

home_sections = _signals.signal("home-sections", """
Sent when a person's home page ("Ma page") is drawn. The *sender* is the person (a `User`). A
receiver returns a `Section` (or a list of them): its place on the page, the template that draws
it and that template's values, or None when the person has nothing there.
""")

in_progress = _signals.signal("in-progress", """
Sent when the home page lists what is "En cours". The *sender* is the person (a `User`);
`exclude`, the ids already listed; `open_forms`, the forms they fill with a form under them. A
receiver returns records (`Record` rows) this person may carry on with beyond their own of the
last days (a team's planned rounds).
""")

navigation = _signals.signal("navigation", """
Sent when a page draws the main menu. The *sender* is the person logged in (a `User`). A receiver
returns a `MenuItem` (or a list of them) for the pages of its feature this person may open.
""")

indicators = _signals.signal("indicators", """
Sent by the figures when they list their indicators, with no sender. A receiver returns a list
of `figures.indicators.Indicator`: figures of its own form, computed from the summary tables
like the built-in ones and shown after them.
""")


class Moved(NamedTuple):
    """What a feature moved in a merge: its rows' ids, under its own key, and whom to tell."""

    key: str
    ids: list[str]
    users: set[int]


class Section(NamedTuple):
    """One section of the home page: its place (lowest first), its template, its values."""

    position: int
    template: str
    context: dict[str, Any]


class MenuItem(NamedTuple):
    """One entry of the main menu: its place (lowest first), its words, its endpoint."""

    position: int
    label: str
    endpoint: str


def every_pull_kind() -> dict[str, Any]:
    """Return every kind the features add to the pull beside `people`, in the features' order."""
    kinds: dict[str, Any] = {}
    for added in gathered(pull_kinds.send(None)):
        kinds |= added
    return kinds


def gathered(results: Iterable[tuple[Any, Any]]) -> list[Any]:
    """Return what the receivers of a `send` returned, in order: lists flattened, None left out."""
    values: list[Any] = []
    for _receiver, value in results:
        if value is None:
            continue
        if isinstance(value, list):
            values.extend(value)
        else:
            values.append(value)
    return values
