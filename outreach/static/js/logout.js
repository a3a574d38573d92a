// "Se déconnecter" (DESIGN §9): ask first when records wait, erase this person from the tablet
// (all of it when nothing waits, all but what waits otherwise), forget their pages, then end the
// session on the server; offline, the service worker ends it when the network returns.
import { countToFix, countWaiting, currentUser, forgetPerson } from "./store.js";
import { stopSyncing } from "./sync.js";
import { forget, lock } from "./crypto.js";

const WORKER_WAIT_MS = 5000;
// Read by the service worker (sw.js): a logout it must finish on the server before any page.
const LOGOUT_CACHE = "logout-pending";
const LOGOUT_KEY = "/deconnexion-en-attente";
const tabs = window.BroadcastChannel ? new BroadcastChannel("outreach-logout") : null;

export function guardLogout() {
  followOtherTabs();
  const form = document.querySelector("form[data-logout]");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.leaving || !(await agreed())) return;
    form.dataset.leaving = "yes";
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Déconnexion…";
    await logOut(form);
  });
}

async function agreed() {
  const [outbox, toFix] = await Promise.all([countWaiting(), countToFix()]);
  if (outbox + toFix === 0) return true;
  const parts = [];
  const plural = (count) => (count > 1 ? "s" : "");
  if (outbox) {
    parts.push(`${outbox} fiche${plural(outbox)} ${outbox > 1 ? "attendent" : "attend"} encore `
      + `d'être envoyée${plural(outbox)}`);
  }
  if (toFix) parts.push(`${toFix} fiche${plural(toFix)} ${toFix > 1 ? "sont" : "est"} à corriger`);
  const they = outbox + toFix > 1 ? "Elles resteront" : "Elle restera";
  return window.confirm(`${parts.join(" et ")}. ${they} sur cette tablette jusqu'à votre prochaine `
    + "connexion ; le reste de vos données en sera effacé. Se déconnecter ?");
}

// The person's other tabs: they stop syncing before the erasure (a pull of theirs landing after it
// would bring the data back), and leave their pages once the session is over.
function followOtherTabs() {
  if (!tabs) return;
  tabs.onmessage = ({ data }) => {
    if (data.user !== currentUser()) return;
    if (data.step === "erasing") stopSyncing(() => {});
    if (data.step === "done") location.replace("/connexion");
  };
}

function tellOtherTabs(step) {
  tabs?.postMessage({ step, user: currentUser() });
}

async function logOut(form) {
  const user = currentUser();
  tellOtherTabs("erasing");
  // Records kept for the next login stay sealed: their key stays too, locked.
  const kept = await stopSyncing(forgetPerson);
  await (kept ? lock(user) : forget(user));
  await forgetPages();
  if (!(await endSession(form))) {
    // No network: this tablet forgets now; the server forgets at the first page opened online.
    const cache = await caches.open(LOGOUT_CACHE);
    await cache.put(LOGOUT_KEY, new Response(user));
  }
  tellOtherTabs("done");
  location.replace("/connexion");
}

export async function forgetPages() {
  // Through the worker first, so that the forgetting comes after any keeping it has under way.
  const worker = navigator.serviceWorker?.controller;
  if (worker) {
    const channel = new MessageChannel();
    const forgotten = new Promise((resolve) => { channel.port1.onmessage = resolve; });
    worker.postMessage({ type: "forget-pages" }, [channel.port2]);
    await Promise.race([forgotten, new Promise((resolve) => setTimeout(resolve, WORKER_WAIT_MS))]);
  }
  if (window.caches) await caches.delete("pages");
}

async function endSession(form) {
  try {
    const answer = await fetch(form.action, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      body: new URLSearchParams(new FormData(form)),
    });
    if (answer.type === "opaqueredirect") return true;
    // The page's token went stale (a page kept long offline): end it with a fresh one.
    const session = await fetch("/api/v1/session", { credentials: "same-origin" });
    if (session.status === 401) return true;
    const { csrf_token: token } = await session.json();
    const closed = await fetch("/api/v1/session", {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": token },
    });
    return closed.ok;
  } catch (error) {
    return false;
  }
}
