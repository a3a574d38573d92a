// Every page's start: the service worker, the status area, and the triggers of a sync.
import { currentUser } from "./store.js";
import { refreshStatus } from "./status.js";
import { sync } from "./sync.js";
import { wireRecordForm } from "./record-form.js";
import { listToFix } from "./to-fix.js";
import { exportWaiting, protectStorage } from "./keep.js";
import { guardLogout } from "./logout.js";
import { showVisits } from "./visits.js";
import { wireQuickForm } from "./quick.js";
import { showAlerts } from "./field-alerts.js";
import { showAppointments, showSessions, wirePlannedSession } from "./permanences.js";
import { showKnownPeople } from "./known-people.js";
import { forgetClosedRounds, wireClosing } from "./close-tournee.js";
import { showCallSummary, showCalls } from "./calls.js";
import { wireMenu } from "./menu.js";
import { lockWhenIdle, unlocked } from "./lock.js";
import { wireLogin } from "./login.js";

const RECHECK_MS = 60 * 1000;

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  let updateTaken = false;
  const offer = (worker) => {
    const banner = document.getElementById("update-banner");
    banner.hidden = false;
    banner.querySelector("button").onclick = () => {
      updateTaken = true;
      worker.postMessage({ type: "take-update" });
    };
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  // Reload only for an update the person took: the first install also changes the controller,
  // and reloading then would lose what they are typing.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updateTaken) location.reload();
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "sync-now") sync();
  });
  await navigator.serviceWorker.ready;
  // A page whose loading began before the first worker was active is not claimed with the
  // others (it was not yet ready when the worker claimed): ask again, or it stays uncontrolled.
  if (!navigator.serviceWorker.controller) registration.active.postMessage({ type: "claim" });
  keepOfflinePages(registration.active);
  if (registration.sync) registration.sync.register("outreach-sync").catch(() => {});
}

function keepOfflinePages(worker) {
  // Pages of another person must never open offline here: forget them when the person changes.
  const user = currentUser();
  if (localStorage.getItem("outreach-last-user") !== user) {
    worker.postMessage({ type: "forget-pages" });
    localStorage.setItem("outreach-last-user", user);
  }
  const urls = JSON.parse(document.body.dataset.offlinePages || "[]");
  worker.postMessage({ type: "keep-pages", urls });
}

function wireTriggers() {
  document.getElementById("sync-button")?.addEventListener("click", () => sync());
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => refreshStatus());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync();
  });
  setInterval(() => { if (navigator.onLine) sync(); }, RECHECK_MS);
}

// A person's page: nothing of theirs is read before they are unlocked (the lock screen covers
// the page until then); the status area counts their waiting records meanwhile.
async function startPage(user) {
  refreshStatus();
  registerWorker();
  // Wired before the lock screen: a logout in another tab stops this one too, locked or not.
  guardLogout();
  await unlocked(user);
  lockWhenIdle(user);
  const form = document.querySelector("form[data-offline-form]");
  if (form) wirePlannedSession(form);
  // "ready" marks the moment a form can be filled: what the cold-start benchmark waits for.
  if (form) wireRecordForm(form).then(() => { document.body.dataset.ready = "form"; });
  const quick = document.querySelector("form[data-quick-form]");
  if (quick) wireQuickForm(quick);
  if (document.getElementById("sur-la-tablette")) listToFix();
  const closing = document.querySelector("form[data-close-tournee]");
  if (closing) wireClosing(closing);
  const inProgress = document.getElementById("en-cours-section");
  if (inProgress) forgetClosedRounds(inProgress);
  // Home lists drawn from the working set, again after each pull.
  const lists = [["mes-visites", showVisits], ["mes-alertes", showAlerts],
    ["mes-permanences", showSessions], ["a-venir", showAppointments],
    ["personnes-connues", showKnownPeople], ["appels", showCalls], ["mes-appels", showCallSummary]]
    .map(([id, show]) => [document.getElementById(id), show]).filter(([section]) => section);
  const redraw = () => Promise.all(lists.map(([section, show]) => show(section)));
  if (lists.length) {
    redraw();
    window.addEventListener("outreach:pulled", redraw);
  }
  document.getElementById("export-waiting")?.addEventListener("click", exportWaiting);
  protectStorage();
  wireTriggers();
  window.addEventListener("outreach:unlocked", () => sync().then(redraw));
  // "settled": the first sync is done and the lists are drawn again (what tests wait for).
  refreshStatus().then(() => sync()).then(redraw)
    .finally(() => { document.body.dataset.settled = "1"; });
}

wireMenu();
const loginForm = document.querySelector("form[data-login]");
if (loginForm) wireLogin(loginForm);
// The login page, even reached logged in ("Changer de personne"), opens nobody's data.
if (currentUser() && !loginForm) {
  startPage(currentUser());
} else if (!currentUser()) {
  // A page reached with nobody logged in (the login page): no one's pages stay kept, whether
  // they logged out in another tab or their session ended while the tablet was left.
  navigator.serviceWorker?.controller?.postMessage({ type: "forget-pages" });
}

// Tests (and the curious) can run a sync by hand: `await window.outreach.sync()`.
window.outreach = { sync, refreshStatus };
