// Sending the outbox (DESIGN §3, §4): in batches of 500, one sync at a time across tabs; each
// result decides a record's fate; a network error or a 5xx keeps everything for a later try.
import { countWaiting, currentUser, getMeta, nextRelease, sendable, setMeta, settle, storePulled } from "./store.js";
import { isOpen } from "./crypto.js";
import { eraseTablet, TabletLost } from "./lost.js";
import { refreshStatus, sayExpired } from "./status.js";

const BATCH = 500;
const RETRY_BASE_MS = 2000;
const RETRY_CAP_MS = 5 * 60 * 1000;
const REQUEST_TIMEOUT_MS = 30 * 1000;
let failures = 0;
let retryTimer = null;
let releaseTimer = null;
// Where navigator.locks is missing (Safari before 15.4), syncs of this page take turns on a
// chain: `last` is its end, `next` a turn not yet begun that every call meanwhile shares.
let last = Promise.resolve();
let next = null;
let stopped = false;

class SessionExpired extends Error {}

export function deviceId() {
  let id = localStorage.getItem("outreach-device");
  if (!id) {
    id = newId();
    localStorage.setItem("outreach-device", id);
  }
  return id;
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The sync a test (or any trigger) calls. Resolves to what happened; never rejects.
// Calls wait for each other (one sync at a time across tabs); a later one finds less to send.
export function sync() {
  if (navigator.locks) return navigator.locks.request("outreach-sync", run);
  // A call during a sync waits for it, then sends what was saved meanwhile (joining the sync
  // under way would leave a record saved after its push waiting for the next trigger).
  if (!next) {
    next = last.then(() => { next = null; return run(); });
    last = next.catch(() => {});
  }
  return next;
}

// Logout: no sync starts again in this page, and `work` runs once the one under way is over
// (a pull landing after the erasure would bring the person's data back).
export function stopSyncing(work) {
  stopped = true;
  clearTimeout(retryTimer);
  clearTimeout(releaseTimer);
  if (navigator.locks) return navigator.locks.request("outreach-sync", work);
  return last.then(work);
}

async function run() {
  if (stopped) return { stopped: true };
  // Sending needs the key: a locked tablet keeps its records, counted, until the person unlocks.
  if (!(await isOpen(currentUser()))) {
    await refreshStatus();
    return { locked: true };
  }
  try {
    const sent = await pushAll();
    await pullAll();
    window.dispatchEvent(new CustomEvent("outreach:pulled"));
    failures = 0;
    await setMeta("last_sync", new Date().toISOString());
    return { sent, held: await syncAfterHolds() };
  } catch (error) {
    if (error instanceof TabletLost) {
      stopped = true;
      await eraseTablet();
      return { lost: true };
    }
    if (error instanceof SessionExpired) {
      sayExpired();
      return { expired: true };
    }
    scheduleRetry();
    return { error: String(error) };
  } finally {
    if (!stopped) await refreshStatus();
  }
}

async function pushAll() {
  let token = await freshToken();
  let sent = 0;
  for (;;) {
    const all = await sendable();
    const batch = all.slice(0, BATCH);
    if (batch.length === 0) return sent;
    let answer = await post(batch, token, all.length);
    if (answer.status === 400 && (await answer.clone().json()).code === "csrf") {
      token = await freshToken();
      answer = await post(batch, token, all.length);
    }
    await refusedAt(answer);
    if (!answer.ok) throw new Error(`push answered ${answer.status}`);
    const { results } = await answer.json();
    if (!Array.isArray(results) || results.length !== batch.length) {
      throw new Error("push answer does not match the batch");
    }
    await settle(results);
    sent += results.length;
  }
}

async function pullAll() {
  let cursor = await getMeta("cursor");
  for (let page = 0; page < 1000; page += 1) {
    const query = new URLSearchParams({ device_id: deviceId(), ...(cursor ? { cursor } : {}) });
    const answer = await fetch(`/api/v1/sync/pull?${query}`, {
      credentials: "same-origin", signal: timeout(),
      headers: { ...deviceHeaders(), "X-Outreach-Waiting": String(await countWaiting()) },
    });
    await refusedAt(answer);
    if (answer.status === 400 && cursor) { cursor = null; continue; }  // start again, whole
    if (!answer.ok) throw new Error(`pull answered ${answer.status}`);
    const body = await answer.json();
    await storePulled(body);
    if (!body.more) return;
    cursor = body.cursor;
  }
}

async function freshToken() {
  // A token fetched before each replay: the one in a page kept offline may have expired.
  const answer = await fetch("/api/v1/session", {
    credentials: "same-origin", signal: timeout(), headers: deviceHeaders(),
  });
  await refusedAt(answer);
  if (!answer.ok) throw new Error(`session answered ${answer.status}`);
  const session = await answer.json();
  // The session must be the unlocked person's (DESIGN §9): one person's outbox is never sent,
  // nor their working set filled, in a colleague's session left on the tablet.
  if (String(session.user?.id) !== currentUser()) throw new SessionExpired();
  return session.csrf_token;
}

// 401: the session is over (records kept, "Session expirée"); 403 tablette_perdue: the office
// declared this tablet lost, and it erases itself.
async function refusedAt(answer) {
  if (answer.status === 401) throw new SessionExpired();
  if (answer.status === 403 && (await answer.clone().json().catch(() => ({}))).code === "tablette_perdue") {
    throw new TabletLost();
  }
}

// Every API call says which tablet makes it (DESIGN §9): the server's journal and sync log.
export function deviceHeaders() {
  return { "X-Outreach-Device": deviceId() };
}

function post(batch, token, waitingCount) {
  // Only the protocol's keys leave the tablet (DESIGN §4); the rest is for its own screens.
  const records = batch.map(({ id, form, form_version, recorded_at, parent_id, base_revision, data }) =>
    ({ id, form, form_version, recorded_at, parent_id, base_revision, data }));
  return fetch("/api/v1/sync/push", {
    method: "POST",
    credentials: "same-origin",
    signal: timeout(),
    headers: {
      "Content-Type": "application/json", "X-CSRFToken": token, ...deviceHeaders(),
      "X-Outreach-Waiting": String(waitingCount),
    },
    body: JSON.stringify({ device_id: deviceId(), records }),
  });
}

function timeout() {
  // Older Safari has no AbortSignal.timeout: there the browser's own limit applies.
  return AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
}

// Records held while their "Annuler" shows wait; a sync starts when the first hold ends, even if
// the page that held it is gone. Answers whether any record is held.
async function syncAfterHolds() {
  const end = await nextRelease();
  clearTimeout(releaseTimer);
  if (end === null) return false;
  releaseTimer = setTimeout(sync, Math.max(0, end - Date.now()) + 100);
  return true;
}

function scheduleRetry() {
  failures += 1;
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** failures);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(sync, Math.random() * ceiling);
}
