// The tablet's keys (DESIGN §9, issue 17): the only module that touches them. Each person on a
// tablet has a random AES-GCM data key that seals every value of theirs in IndexedDB. It is kept
// only wrapped: by their code (PIN), by their password, and by an escrow key the server hands to
// that person logged in on this tablet. While they are unlocked, the key is kept as a
// non-extractable CryptoKey (navigating needs no new unlock), with a token in sessionStorage:
// a browser closed and reopened finds no token, and is locked.
import { openDB } from "/static/vendor/idb/index.js";

const KEYS_DB = "outreach-keys";
// OWASP's 2023 floor for PBKDF2-SHA-256; the count is stored beside each wrapped copy, so that a
// later, higher count still opens the copies made before it.
const ITERATIONS = 600000;
const MAX_PIN_FAILURES = 5;
const TOUCH_EVERY_MS = 10 * 1000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let keysDb = null;
let unlocked = null; // { user, key } once read for this page
// A page opened is activity: its idle time counts from then, or from the last tap or key.
let lastActivity = Date.now();
let lastWrite = 0;

export class Locked extends Error {}

function keys() {
  if (!keysDb) {
    keysDb = openDB(KEYS_DB, 1, {
      upgrade(db) {
        db.createObjectStore("people"); // user id → key ring (wrapped copies only)
        db.createObjectStore("open"); // user id → { key: CryptoKey, token, active_at }
      },
      blocking(_current, _blocked, event) { event.target.close(); keysDb = null; },
    });
  }
  return keysDb;
}

// Whether this tablet's data is sealed: the CCAS may turn the code off on managed tablets, and
// then the data is stored in clear (the README says so).
export const protectedTablet = () => document.body.dataset.pin !== "off";
export const lockAfterMs = () => Number(document.body.dataset.lockMs) || 5 * 60 * 1000;

const random = (size) => crypto.getRandomValues(new Uint8Array(size));
const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function derived(secret, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "PBKDF2", false,
                                                 ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", salt, iterations, hash: "SHA-256" }, material,
                                 { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

const aesKey = (raw, uses) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, uses);

async function box(key, bytes, label) {
  const iv = random(12);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(label) },
                                             key, bytes);
  return { iv, box: sealed };
}

function unbox(key, { iv, box: sealed }, label) {
  return crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(label) }, key, sealed);
}

// A copy of the raw data key wrapped by a secret (code or password): salt and count beside it.
async function wrapBySecret(raw, secret, user) {
  const salt = random(16);
  const wrapped = await box(await derived(secret, salt, ITERATIONS), raw, `key:${user}`);
  return { salt, iterations: ITERATIONS, ...wrapped };
}

async function unwrapBySecret(copy, secret, user) {
  const key = await derived(secret, copy.salt, copy.iterations);
  return new Uint8Array(await unbox(key, copy, `key:${user}`));
}

const escrowKey = (text) => aesKey(unbase64(text), ["encrypt", "decrypt"]);

export const ring = async (user) => (await keys()).get("people", String(user));
const saveRing = async (user, value) => (await keys()).put("people", value, String(user));

// The people who have a key ring on this tablet (for "Changer de personne" offline).
export async function findByLogin(login) {
  const all = await (await keys()).getAll("people");
  return all.find((person) => person.login === login) || null;
}

// After an online login (the answer carries the escrow key): the data key is recovered through
// the escrow (a forgotten code, a code locked out, a password changed elsewhere), or made at the
// first login here; then wrapped again by this password. Answers whether a code must be chosen.
export async function atLogin(user, { login, name, password, escrow }) {
  const held = await ring(user);
  let raw = null;
  if (held?.escrow && escrow) raw = await unwrapEscrow(held, escrow, user).catch(() => null);
  if (!raw && held?.password) raw = await unwrapBySecret(held.password, password, user).catch(() => null);
  // A ring with records sealed under a key no copy opens any more would lose them: refuse.
  if (!raw && held) throw new Error("La clé de cette tablette ne s'ouvre plus : appelez le CCAS.");
  raw = raw || random(32);
  const next = { user: String(user), login, name, pin: held?.pin || null, failures: held?.failures || 0,
                 password: await wrapBySecret(raw, password, user) };
  if (escrow) {
    next.escrow = await box(await escrowKey(escrow), raw, `key:${user}`);
    // The escrow key itself, sealed by the data key: the last-resort export is sealed with it.
    next.office = await box(await aesKey(raw, ["encrypt"]), unbase64(escrow), `office:${user}`);
  } else {
    next.escrow = held?.escrow || null;
    next.office = held?.office || null;
  }
  await saveRing(user, next);
  await open(user, raw);
  if (!next.pin) pendingRaw = { user: String(user), raw };
  return protectedTablet() && !next.pin;
}

const unwrapEscrow = async (held, escrow, user) => new Uint8Array(
  await unbox(await escrowKey(escrow), held.escrow, `key:${user}`));

// The raw key stays in this page's memory between a login or a password unlock and the code
// chosen just after it, never longer (it is not kept anywhere).
let pendingRaw = null;

export function mayChoosePin(user) {
  return pendingRaw?.user === String(user);
}

export async function choosePin(user, pin) {
  if (!mayChoosePin(user)) throw new Locked("no key to wrap");
  const held = await ring(user);
  held.pin = await wrapBySecret(pendingRaw.raw, pin, user);
  held.failures = 0;
  await saveRing(user, held);
  pendingRaw = null;
}

// The code at the lock screen: {open}, or {left: n} tries before the code's copy is erased, or
// {erased} (then the password or an online login opens the data, which is kept).
export async function unlockWithPin(user, pin) {
  const held = await ring(user);
  if (!held?.pin) return { erased: true };
  try {
    const raw = await unwrapBySecret(held.pin, pin, user);
    held.failures = 0;
    await saveRing(user, held);
    await open(user, raw);
    return { open: true };
  } catch (error) {
    held.failures = (held.failures || 0) + 1;
    if (held.failures >= MAX_PIN_FAILURES) {
      held.pin = null;
      held.failures = 0;
      await saveRing(user, held);
      return { erased: true };
    }
    await saveRing(user, held);
    return { left: MAX_PIN_FAILURES - held.failures };
  }
}

// The password, with or without network: it opens the copy it wrapped at the last login here.
export async function unlockWithPassword(user, password) {
  const held = await ring(user);
  if (!held?.password) return false;
  try {
    const raw = await unwrapBySecret(held.password, password, user);
    await open(user, raw);
    if (!held.pin) pendingRaw = { user: String(user), raw };  // a new code is chosen next
    return true;
  } catch (error) {
    return false;
  }
}

async function open(user, raw) {
  const token = base64(random(16));
  const key = await aesKey(raw, ["encrypt", "decrypt"]);
  await (await keys()).put("open", { key, token, active_at: Date.now() }, String(user));
  sessionStorage.setItem(`outreach-open-${user}`, token);
  unlocked = { user: String(user), key };
  lastActivity = lastWrite = Date.now();
}

// This person's key if they are unlocked in this browser session and were active lately.
async function openKey(user) {
  if (unlocked?.user === String(user)) return unlocked.key;
  const found = await (await keys()).get("open", String(user));
  const token = sessionStorage.getItem(`outreach-open-${user}`) || await tokenOfOtherTabs(user);
  if (!found || !token || found.token !== token || Date.now() - found.active_at > lockAfterMs()) {
    return null;
  }
  unlocked = { user: String(user), key: found.key };
  return found.key;
}

// A tab opened beside an unlocked one is of the same browser session: it asks them for the
// token. A browser closed and reopened has no tab left to answer, and stays locked.
const tabs = window.BroadcastChannel ? new BroadcastChannel("outreach-keys") : null;
if (tabs) {
  tabs.addEventListener("message", ({ data }) => {
    const token = sessionStorage.getItem(`outreach-open-${data.user}`);
    if (data.ask && token && unlocked?.user === data.user) tabs.postMessage({ user: data.user, token });
  });
}

function tokenOfOtherTabs(user) {
  if (!tabs) return null;
  return new Promise((resolve) => {
    const answer = ({ data }) => {
      if (data.user !== String(user) || !data.token) return;
      sessionStorage.setItem(`outreach-open-${user}`, data.token);
      resolve(data.token);
    };
    tabs.addEventListener("message", answer);
    tabs.postMessage({ ask: true, user: String(user) });
    setTimeout(() => { tabs.removeEventListener("message", answer); resolve(null); }, 300);
  });
}

export async function isOpen(user) {
  if (!protectedTablet()) return true;
  return (await openKey(user)) !== null;
}

// Activity keeps the key open; written at most every few seconds (a tap is not an IndexedDB
// write), so that the next page opened finds the person still active.
export async function touch(user) {
  lastActivity = Date.now();
  if (!protectedTablet() || lastActivity - lastWrite < TOUCH_EVERY_MS) return;
  lastWrite = lastActivity;
  const db = await keys();
  const found = await db.get("open", String(user));
  if (found) await db.put("open", { ...found, active_at: lastWrite }, String(user));
}

export const idleMs = () => Date.now() - lastActivity;

export async function lock(user) {
  unlocked = null;
  pendingRaw = null;
  sessionStorage.removeItem(`outreach-open-${user}`);
  await (await keys()).delete("open", String(user));
}

// One value sealed for the store: a fresh IV each time; the label (store and id) is bound to it,
// so that a value moved under another id does not open.
export async function seal(user, value, label) {
  if (!protectedTablet()) return { clear: value };
  const key = await openKey(user);
  if (!key) throw new Locked("locked");
  return box(key, encoder.encode(JSON.stringify(value)), label);
}

export async function unseal(user, sealed, label) {
  if ("clear" in sealed) return sealed.clear;
  const key = await openKey(user);
  if (!key) throw new Locked("locked");
  return JSON.parse(decoder.decode(await unbox(key, sealed, label)));
}

// The last-resort export, sealed with the escrow key: only the server opens it, at import.
export async function sealForOffice(user, value) {
  const held = await ring(user);
  const key = await openKey(user);
  if (!held?.office || !key) throw new Locked("no escrow key");
  const escrow = new Uint8Array(await unbox(key, held.office, `office:${user}`));
  const { iv, box: sealed } = await box(await aesKey(escrow, ["encrypt"]), encoder.encode(JSON.stringify(value)),
                                        `export:${user}`);
  return { iv: base64(iv), box: base64(sealed) };
}

// Logout with nothing left waiting: this person's keys go with their data.
export async function forget(user) {
  await lock(user);
  await (await keys()).delete("people", String(user));
}

// A tablet declared lost: every person's keys go.
export async function eraseKeys() {
  unlocked = null;
  pendingRaw = null;
  sessionStorage.clear();
  const db = await keys();
  const people = await db.getAllKeys("people");
  db.close();
  keysDb = null;
  await new Promise((resolve) => {
    const asked = indexedDB.deleteDatabase(KEYS_DB);
    asked.onsuccess = asked.onerror = asked.onblocked = resolve;
  });
  return people;
}
