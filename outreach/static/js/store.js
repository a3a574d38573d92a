// The tablet's own storage: one IndexedDB database per person (an outbox belongs to its author),
// holding the outbox, the records to fix, and small facts such as the last successful sync.
import { deleteDB, openDB } from "/static/vendor/idb/index.js";

let opened = null;
let forgotten = false;

export function currentUser() {
  return document.body.dataset.userId || null;
}

export function database() {
  // After logout nothing may write here again (a late sync would bring the person back).
  if (forgotten) return Promise.reject(new Error("logged out"));
  if (!opened) {
    opened = openDB(`outreach-${currentUser()}`, 6, {
      blocking(currentVersion, blockedVersion, event) {
        // Another tab erases this person at logout: let it, and open again if still needed.
        event.target.close();
        opened = null;
      },
      upgrade(db, oldVersion, newVersion, transaction) {
        if (oldVersion < 1) {
          db.createObjectStore("outbox", { keyPath: "id" }).createIndex("by_order", "queued_at");
          db.createObjectStore("to_fix", { keyPath: "id" });
          db.createObjectStore("meta");
        }
        if (oldVersion < 2) {
          // The working set a pull brings (DESIGN §3): forms, reference lists, people.
          db.createObjectStore("forms", { keyPath: ["key", "version"] });
          db.createObjectStore("reference");
          db.createObjectStore("people", { keyPath: "id" });
        }
        if (oldVersion < 3) {
          // The CCAS's own work: a visiteur's seniors and when each is due; alerts raised.
          db.createObjectStore("visits", { keyPath: "id" });
          db.createObjectStore("alerts", { keyPath: "id" });
        }
        if (oldVersion < 4) {
          // A travailleur social's sessions to come, and the follow-up appointments they gave.
          db.createObjectStore("sessions", { keyPath: "id" });
          db.createObjectStore("appointments", { keyPath: "id" });
        }
        if (oldVersion < 5) {
          // A maraude team's known people: when and where each was last met, and their needs.
          db.createObjectStore("encounters", { keyPath: "id" });
        }
        if (oldVersion < 6) {
          // The calls of an alert plan given to this person.
          db.createObjectStore("calls", { keyPath: "id" });
        }
        // New kinds came before this cursor: the next pull starts again from the beginning.
        if (oldVersion >= 1) transaction.objectStore("meta").delete("cursor");
      },
    });
  }
  return opened;
}

export async function queue(record) {
  const db = await database();
  await db.put("outbox", { ...record, queued_at: Date.now() });
}

export async function waiting() {
  return (await database()).getAllFromIndex("outbox", "by_order");
}

// A record held while its "Annuler" shows (DESIGN §9): `held_until` (ms) is the tablet's own key,
// never sent (sync.js sends only the protocol's keys). A hold ends by itself: a page closed
// meanwhile loses nothing, the next sync sends it.
const isHeld = (record, now = Date.now()) => Number(record?.held_until) > now;

// What a sync may send now: the outbox, less the records held.
export async function sendable() {
  const now = Date.now();
  return (await waiting()).filter((record) => !isHeld(record, now));
}

// When the first hold ends (ms), or null: a sync then sends what it kept back.
export async function nextRelease() {
  const ends = (await waiting()).filter((record) => isHeld(record)).map((r) => r.held_until);
  return ends.length ? Math.min(...ends) : null;
}

// Save a record held until `until`; answers the outbox record it replaces (same id), if any.
export async function queueHeld(record, until) {
  const db = await database();
  const tx = db.transaction("outbox", "readwrite");
  const previous = await tx.store.get(record.id);
  await Promise.all([tx.store.put({ ...record, queued_at: Date.now(), held_until: until }), tx.done]);
  return previous || null;
}

// The hold ends now: the record may go at the next sync. Only the hold given (a record saved
// again since keeps its own).
export async function release(id, until) {
  const db = await database();
  const tx = db.transaction("outbox", "readwrite");
  const record = await tx.store.get(id);
  const work = [tx.done];
  if (record && record.held_until === until) {
    const { held_until: _ended, ...free } = record;
    work.push(tx.store.put(free));
  }
  await Promise.all(work);
}

// "Annuler": the held record leaves the outbox, or the one it replaced comes back. Answers false
// when it is too late (the hold is over: a sync may have sent it), and then changes nothing.
export async function unqueue(id, until, previous = null) {
  const db = await database();
  const tx = db.transaction("outbox", "readwrite");
  const record = await tx.store.get(id);
  if (!record || record.held_until !== until || !isHeld(record)) {
    await tx.done;
    return false;
  }
  await Promise.all([previous ? tx.store.put(previous) : tx.store.delete(id), tx.done]);
  return true;
}

export async function countWaiting() {
  return (await database()).count("outbox");
}

export async function countToFix() {
  return (await database()).count("to_fix");
}

export async function toFix() {
  return (await database()).getAll("to_fix");
}

// Apply the server's verdicts in one transaction: accepted records leave the outbox, refused
// ones move to "à corriger". Nothing else is awaited inside it (idb: transaction lifetime).
export async function settle(results) {
  const db = await database();
  const tx = db.transaction(["outbox", "to_fix", "meta"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const refused = tx.objectStore("to_fix");
  const work = results.map(async (result) => {
    const record = await outbox.get(result.id);
    if (!record) return;
    if (result.status === "rejected" || result.status === "conflict") {
      await refused.put({ ...record, status: result.status, errors: result.errors,
                          revision: result.revision });
    } else if (Number.isInteger(record.base_revision)) {
      // A change accepted: a page kept offline still names the older revision.
      await tx.objectStore("meta").put(result.revision, `revision:${record.id}`);
    }
    await outbox.delete(result.id);
  });
  await Promise.all([...work, tx.done]);
}

export async function fixRecord(id) {
  return (await database()).get("to_fix", id);
}

// A corrected record goes back to the outbox and leaves "à corriger", in one transaction.
export async function requeueCorrected(record) {
  const db = await database();
  const tx = db.transaction(["outbox", "to_fix"], "readwrite");
  const { status, errors, revision, ...fixed } = record;
  await Promise.all([
    tx.objectStore("outbox").put({ ...fixed, queued_at: Date.now() }),
    tx.objectStore("to_fix").delete(record.id),
    tx.done,
  ]);
}

// What a pull carries beside forms, each kept in the store of the same name.
const KINDS = ["people", "visits", "alerts", "sessions", "appointments", "encounters", "calls"];

// One pulled page in one transaction: forms and lists replaced whole when sent, each kind's items
// added or removed (tombstones), and the cursor moved only with them.
export async function storePulled(page) {
  const db = await database();
  const tx = db.transaction(["forms", "reference", "meta", ...KINDS], "readwrite");
  const work = [];
  if (page.forms.length) {
    const forms = tx.objectStore("forms");
    work.push(forms.clear(), ...page.forms.map((form) => forms.put(form)));
  }
  if (Object.keys(page.reference).length) {
    const lists = tx.objectStore("reference");
    work.push(lists.clear(), ...Object.entries(page.reference).map(([key, items]) => lists.put(items, key)));
  }
  for (const kind of KINDS) {
    const store = tx.objectStore(kind);
    for (const item of page[kind] || []) {
      work.push(item.deleted ? store.delete(item.id) : store.put(item));
    }
  }
  work.push(tx.objectStore("meta").put(page.cursor, "cursor"));
  await Promise.all([...work, tx.done]);
}

// The people this person may pick: those pulled, and those made here and not yet sent.
export async function offlinePeople() {
  const db = await database();
  const pulled = await db.getAll("people");
  const made = (await db.getAll("outbox")).filter((record) => record.form === "personne");
  return [...pulled, ...made].map(({ id, data }) => ({ id, data }));
}

// Every version of a form the tablet holds, oldest first.
export async function formVersions(key) {
  const range = IDBKeyRange.bound([key, 0], [key, Infinity]);
  return (await database()).getAll("forms", range);
}

// The reference lists pulled: {list key: [{value, label}]}.
export async function referenceLists() {
  const db = await database();
  const tx = db.transaction("reference");
  const lists = {};
  let cursor = await tx.store.openCursor();
  while (cursor) {
    lists[cursor.key] = cursor.value;
    cursor = await cursor.continue();
  }
  return lists;
}

export async function kept(kind) {
  return (await database()).getAll(kind);
}

export async function putKept(kind, item) {
  return (await database()).put(kind, item);
}

// The place a team is at, kept from one encounter to the next of the same tournée (its secteur
// to begin): last night's place is not tonight's.
export function rememberPlace(label, tournee = null) {
  if (label) localStorage.setItem(`outreach-last-lieu-${currentUser()}`, JSON.stringify({ label, tournee }));
}

export function lastPlace(tournee = null) {
  const kept = localStorage.getItem(`outreach-last-lieu-${currentUser()}`);
  if (!kept) return "";
  let place;
  try { place = JSON.parse(kept); } catch { place = null; }
  // Kept by an earlier version as the bare label: a place of no tournée.
  if (!place || typeof place !== "object") place = { label: kept, tournee: null };
  return (place.tournee || null) === (tournee || null) ? place.label || "" : "";
}

export async function getMeta(key) {
  return (await database()).get("meta", key);
}

export async function setMeta(key, value) {
  return (await database()).put("meta", value, key);
}

// Logout (DESIGN §9): erase this person from the tablet. With nothing waiting, everything goes,
// the database itself too. With records in the outbox or "à corriger", those stay (with the forms
// and lists to correct them, which are nobody's), and every pulled kind and the cursor go: the
// next login pulls the working set again from the beginning. Answers whether records were kept.
export async function forgetPerson() {
  const user = currentUser();
  const db = await database();
  const tx = db.transaction([...db.objectStoreNames], "readwrite");
  const kept = (await tx.objectStore("outbox").count()) + (await tx.objectStore("to_fix").count());
  const gone = kept ? KINDS : [...db.objectStoreNames];
  const work = gone.map((name) => tx.objectStore(name).clear());
  if (kept) {
    const meta = tx.objectStore("meta");
    for (const key of await meta.getAllKeys()) {
      if (key === "cursor" || String(key).startsWith("revision:")) work.push(meta.delete(key));
    }
  }
  await Promise.all([...work, tx.done]);
  forgotten = true;
  localStorage.removeItem(`outreach-last-lieu-${user}`);
  localStorage.removeItem("outreach-last-user");
  if (kept) return true;
  db.close();
  opened = null;
  // Already empty: the name goes too, unless another tab holds it open past a short wait.
  await Promise.race([deleteDB(`outreach-${user}`).catch(() => {}),
                      new Promise((resolve) => setTimeout(resolve, 2000))]);
  return false;
}
