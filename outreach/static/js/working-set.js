// The working set a pull brings (DESIGN §3): forms and reference lists (nobody's, in clear), and
// each kind's items sealed one by one under `<kind>:<id>`. Imported through store.js.
import { KINDS, database, openAll, unsealed, sealed, waiting } from "./store.js";


// One pulled page in one transaction: forms and lists replaced whole when sent, each kind's items
// added or removed (tombstones), and the cursor moved only with them.
export async function storePulled(page) {
  // Each kind's items sealed before the transaction; a tombstone is only an id.
  const items = Object.fromEntries(await Promise.all(KINDS.map(async (kind) => [kind,
    await Promise.all((page[kind] || []).map(async (item) => (item.deleted ? item
      : { id: item.id, sealed: await sealed(item, `${kind}:${item.id}`) })))])));
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
    for (const item of items[kind]) {
      work.push(item.deleted ? store.delete(item.id) : store.put(item));
    }
  }
  work.push(tx.objectStore("meta").put(page.cursor, "cursor"));
  await Promise.all([...work, tx.done]);
}

// The people this person may pick: those pulled, and those made here and not yet sent.
export async function offlinePeople() {
  const [pulled, outbox] = await Promise.all([kept("people"), waiting()]);
  const made = outbox.filter((record) => record.form === "personne");
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
  const items = await (await database()).getAll(kind);
  return openAll(items, (item) => (item.sealed ? unsealed(item.sealed, `${kind}:${item.id}`) : item));
}

export async function putKept(kind, item) {
  const entry = { id: item.id, sealed: await sealed(item, `${kind}:${item.id}`) };
  return (await database()).put(kind, entry);
}
