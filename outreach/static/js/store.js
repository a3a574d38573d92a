// The tablet's own storage: one IndexedDB database per person (an outbox belongs to its author),
// holding the outbox, the records to fix, and small facts such as the last successful sync.
// Every value that may name someone is sealed by crypto.js (DESIGN §9): an entry keeps in clear
// only its id and what the tablet orders and counts by (when queued, until when held), so that
// counts and holds work while the app is locked. Sealing is never awaited inside a transaction
// (idb: a transaction ends when it waits on anything else): values are sealed before, opened after.
import { deleteDB, openDB } from "/static/vendor/idb/index.js";
import { seal, unseal } from "./crypto.js";

// The working set a pull brings is kept by working-set.js, read through here.
export { formVersions, kept, offlinePeople, putKept, referenceLists, storePulled } from "./working-set.js";

let opened = null;
let forgotten = false;

export function currentUser() {
  return document.body.dataset.userId || null;
}

export function database() {
  // After logout nothing may write here again (a late sync would bring the person back).
  if (forgotten) return Promise.reject(new Error("logged out"));
  if (!opened) {
    opened = openDB(`outreach-${currentUser()}`, 7, {
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
        if (oldVersion >= 1 && oldVersion < 7) {
          // The working set was kept in clear before version 7: it goes, and comes back sealed.
          for (const kind of KINDS) transaction.objectStore(kind).clear();
        }
        // New kinds came before this cursor: the next pull starts again from the beginning.
        if (oldVersion >= 1) transaction.objectStore("meta").delete("cursor");
      },
    });
  }
  return opened;
}

// What a kind of store holds: values sealed under a label naming what they are, so that a value
// moved under another id does not open.
export const sealed = (value, label) => seal(currentUser(), value, label);
export const unsealed = (box, label) => unseal(currentUser(), box, label);

// An outbox entry: id, queued_at and held_until in clear (ordering, counting, holding), the
// record sealed. `record:<id>` stays its label in "à corriger" too (it moves there as it is).
async function outboxEntry({ queued_at: queuedAt, held_until: heldUntil, ...record }) {
  const entry = { id: record.id, queued_at: queuedAt, sealed: await sealed(record, `record:${record.id}`) };
  if (heldUntil !== undefined) entry.held_until = heldUntil;
  return entry;
}

// An entry kept in clear by a version before sealing opens as it is: nothing waiting is lost.
async function openEntry(entry) {
  if (!entry?.sealed) return entry;
  const record = await unsealed(entry.sealed, `record:${entry.id}`);
  const clear = { ...record, id: entry.id, queued_at: entry.queued_at };
  if (entry.held_until !== undefined) clear.held_until = entry.held_until;
  return clear;
}

export const openAll = (entries, open) => Promise.all(entries.map(open));

// A tablet declared lost: this page writes nothing more here (its databases are being deleted).
export async function closeForGood() {
  forgotten = true;
  if (opened) (await opened).close();
  opened = null;
}

export async function queue(record) {
  const entry = await outboxEntry({ ...record, queued_at: Date.now() });
  await (await database()).put("outbox", entry);
}

export async function waiting() {
  return openAll(await (await database()).getAllFromIndex("outbox", "by_order"), openEntry);
}

// A record held while its "Annuler" shows (DESIGN §9): `held_until` (ms) is the tablet's own key,
// never sent (sync.js sends only the protocol's keys). A hold ends by itself: a page closed
// meanwhile loses nothing, the next sync sends it.
const isHeld = (record, now = Date.now()) => Number(record?.held_until) > now;

// What a sync may send now: the outbox, less the records held.
export async function sendable() {
  const now = Date.now();
  const entries = await (await database()).getAllFromIndex("outbox", "by_order");
  return openAll(entries.filter((entry) => !isHeld(entry, now)), openEntry);
}

// When the first hold ends (ms), or null: a sync then sends what it kept back (read locked too).
export async function nextRelease() {
  const entries = await (await database()).getAllFromIndex("outbox", "by_order");
  const ends = entries.filter((entry) => isHeld(entry)).map((entry) => entry.held_until);
  return ends.length ? Math.min(...ends) : null;
}

// Save a record held until `until`; answers the outbox record it replaces (same id), if any.
export async function queueHeld(record, until) {
  const entry = await outboxEntry({ ...record, queued_at: Date.now(), held_until: until });
  const db = await database();
  const tx = db.transaction("outbox", "readwrite");
  const previous = await tx.store.get(record.id);
  await Promise.all([tx.store.put(entry), tx.done]);
  return previous ? openEntry(previous) : null;
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
  const back = previous ? await outboxEntry(previous) : null;
  const db = await database();
  const tx = db.transaction("outbox", "readwrite");
  const record = await tx.store.get(id);
  if (!record || record.held_until !== until || !isHeld(record)) {
    await tx.done;
    return false;
  }
  await Promise.all([back ? tx.store.put(back) : tx.store.delete(id), tx.done]);
  return true;
}

export async function countWaiting() {
  return (await database()).count("outbox");
}

export async function countToFix() {
  return (await database()).count("to_fix");
}

// A record to fix: the outbox's sealed record as it was, and the server's verdict sealed beside.
async function openToFix(entry) {
  if (!entry?.sealed) return entry;
  const [record, verdict] = await Promise.all([
    unsealed(entry.sealed, `record:${entry.id}`), unsealed(entry.verdict, `verdict:${entry.id}`)]);
  return { ...record, ...verdict, id: entry.id };
}

export async function toFix() {
  return openAll(await (await database()).getAll("to_fix"), openToFix);
}

// Apply the server's verdicts in one transaction: accepted records leave the outbox, refused
// ones move to "à corriger". Nothing else is awaited inside it (idb: transaction lifetime).
export async function settle(results) {
  const refusals = new Map(await Promise.all(results
    .filter((result) => result.status === "rejected" || result.status === "conflict")
    .map(async (result) => [result.id, await sealed(
      { status: result.status, errors: result.errors, revision: result.revision },
      `verdict:${result.id}`)])));
  // Whether each record was a change (base_revision), read before the transaction too.
  const changes = new Set((await outboxRecords(results.map((result) => result.id)))
    .filter((record) => Number.isInteger(record.base_revision)).map((record) => record.id));
  const db = await database();
  const tx = db.transaction(["outbox", "to_fix", "meta"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const refused = tx.objectStore("to_fix");
  const work = results.map(async (result) => {
    const record = await outbox.get(result.id);
    if (!record) return;
    if (refusals.has(result.id)) {
      await refused.put(record.sealed ? { id: record.id, sealed: record.sealed, verdict: refusals.get(result.id) }
        : { ...record, status: result.status, errors: result.errors, revision: result.revision });
    } else if (changes.has(record.id)) {
      // A change accepted: a page kept offline still names the older revision.
      await tx.objectStore("meta").put(result.revision, `revision:${record.id}`);
    }
    await outbox.delete(result.id);
  });
  await Promise.all([...work, tx.done]);
}

async function outboxRecords(ids) {
  const db = await database();
  const entries = await Promise.all(ids.map((id) => db.get("outbox", id)));
  return openAll(entries.filter(Boolean), openEntry);
}

export async function fixRecord(id) {
  return openToFix(await (await database()).get("to_fix", id));
}

// A corrected record goes back to the outbox and leaves "à corriger", in one transaction.
export async function requeueCorrected(record) {
  const { status, errors, revision, ...fixed } = record;
  const entry = await outboxEntry({ ...fixed, queued_at: Date.now() });
  const db = await database();
  const tx = db.transaction(["outbox", "to_fix"], "readwrite");
  await Promise.all([
    tx.objectStore("outbox").put(entry),
    tx.objectStore("to_fix").delete(record.id),
    tx.done,
  ]);
}

// What a pull carries beside forms, each kept in the store of the same name (working-set.js).
export const KINDS = ["people", "visits", "alerts", "sessions", "appointments", "encounters", "calls"];

// The place a team is at, kept from one encounter to the next of the same tournée (its secteur
// to begin): last night's place is not tonight's. Sealed in meta: a place may say whose door.
export async function rememberPlace(label, tournee = null) {
  if (label) await setMeta("last_place", { label, tournee });
}

export async function lastPlace(tournee = null) {
  const place = await getMeta("last_place");
  if (!place || typeof place !== "object") return "";
  return (place.tournee || null) === (tournee || null) ? place.label || "" : "";
}

// What meta keeps in clear: the sync's own facts, read by the status area while locked.
const clearMeta = (key) => key === "cursor" || key === "last_sync" || String(key).startsWith("revision:");

export async function getMeta(key) {
  const value = await (await database()).get("meta", key);
  if (clearMeta(key) || value === undefined) return value;
  return value?.sealed ? unsealed(value.sealed, `meta:${key}`) : value;
}

export async function setMeta(key, value) {
  const kept = clearMeta(key) ? value : { sealed: await sealed(value, `meta:${key}`) };
  return (await database()).put("meta", kept, key);
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
  localStorage.removeItem("outreach-last-user");
  if (kept) return true;
  db.close();
  opened = null;
  // Already empty: the name goes too, unless another tab holds it open past a short wait.
  await Promise.race([deleteDB(`outreach-${user}`).catch(() => {}),
                      new Promise((resolve) => setTimeout(resolve, 2000))]);
  return false;
}
