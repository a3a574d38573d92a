// Outreach service worker: a revisioned precache for the shell, network-first pages with a
// timeout, and nothing but final 200 answers kept. Strategies as in Workbox, without Workbox.
// Kept pages are one person's: forgotten at their logout, and a logout made offline is ended on
// the server before any page opens again. They hold nothing personal (DESIGN §9): only the copy
// the server drew for keeping (X-Outreach-Keep, answered X-Outreach-Kept) lands in Cache Storage,
// never the page a person was shown; what names someone is drawn from the encrypted store.
const VERSION = {{ version|tojson }};
const SHELL = {{ shell|tojson }};
const SHELL_CACHE = `shell-${VERSION}`;
const PAGES_CACHE = "pages";
const PAGE_TIMEOUT_MS = 3000;
// Written by the page (logout.js) when it logged out with no network: the user id to log out.
const LOGOUT_CACHE = "logout-pending";
const LOGOUT_KEY = "/deconnexion-en-attente";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("shell-") && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

// Page-cache work runs one message after another: "forget" must not land after "keep".
let pageWork = Promise.resolve();
function inTurn(work) {
  pageWork = pageWork.then(work, work);
  return pageWork;
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  // The page asks: a new version is only taken when the person agrees to it.
  if (message.type === "take-update") self.skipWaiting();
  if (message.type === "claim") event.waitUntil(self.clients.claim());
  if (message.type === "forget-pages") {
    // The page at logout waits for this answer: the pages are gone once it comes.
    event.waitUntil(inTurn(() => caches.delete(PAGES_CACHE))
      .then(() => event.ports[0]?.postMessage("forgotten")));
  }
  if (message.type === "keep-pages") event.waitUntil(inTurn(() => keepPages(message.urls || [])));
});

self.addEventListener("sync", (event) => {
  if (event.tag === "outreach-sync") event.waitUntil(askPagesToSync());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((found) => found || fetch(request)));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  }
});

function keepable(response) {
  // Never a redirect (to /connexion), never an error page: only a final 200 of our own.
  return response && response.status === 200 && !response.redirected && response.type === "basic";
}

async function navigate(event) {
  if (!(await finishLogout())) return loggedOutPage();
  return networkFirst(event);
}

// A logout made offline: the session it left on the server ends before any page opens, from the
// network or the cache. Answers whether no logout waits any more.
async function finishLogout() {
  if (!(await caches.has(LOGOUT_CACHE))) return true;
  const pending = await (await caches.open(LOGOUT_CACHE)).match(LOGOUT_KEY);
  const user = pending ? await pending.text() : "";
  try {
    const answer = await withTimeout(fetch("/api/v1/session"), PAGE_TIMEOUT_MS);
    // 401: no session left; 403: a tablet declared lost, whose sessions the office ended.
    if (answer.status !== 401 && answer.status !== 403) {
      if (!answer.ok) return false;
      const session = await answer.json();
      // Someone else logged in since (the cookie left is theirs): not the session to end.
      if (String(session.user.id) === user) {
        const closed = await withTimeout(fetch("/api/v1/session", {
          method: "DELETE", headers: { "X-CSRFToken": session.csrf_token },
        }), PAGE_TIMEOUT_MS);
        if (!closed.ok) return false;
      }
    }
  } catch (error) {
    return false;  // still no network: the logout waits, and so does every page
  }
  await caches.delete(LOGOUT_CACHE);
  return true;
}

async function networkFirst(event) {
  const request = event.request;
  try {
    // Never kept as shown: the pages kept are the copies each page asks for (keep-pages).
    return await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
  } catch (error) {
    // Pages vary on the session cookie, which changes as the session does (a CSRF token kept
    // in it): the cache is this person's alone (forgotten when the person changes), so the
    // cookie a page was kept with does not matter. Looked up by name: opening would create it.
    const kept = await caches.match(request, { cacheName: PAGES_CACHE, ignoreVary: true })
      || await caches.match(request, { cacheName: PAGES_CACHE, ignoreSearch: true,
                                       ignoreVary: true });
    return kept || offlinePage();
  }
}

function withTimeout(promise, milliseconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), milliseconds);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function keepPages(urls) {
  if (await caches.has(LOGOUT_CACHE)) return;
  await Promise.all(urls.map(async (url) => {
    try {
      // Marked as the worker's: a page kept in the background must not take the person's
      // "Fiche enregistrée" or "Vous êtes déconnecté" meant for the page they are on.
      const response = await fetch(url, { credentials: "same-origin",
                                          headers: { "X-Outreach-Keep": "1" } });
      if (keepable(response) && response.headers.get("X-Outreach-Kept") === "1") {
        // Opened only to put a page: a keeping that comes after a logout or an erasure, and
        // is refused (its session ended), must not leave an empty cache of pages behind.
        await (await caches.open(PAGES_CACHE)).put(url, response);
      }
    } catch (error) { /* offline now: the page is kept at its next online visit */ }
  }));
}

async function askPagesToSync() {
  for (const client of await self.clients.matchAll({ type: "window" })) {
    client.postMessage({ type: "sync-now" });
  }
}

function offlinePage() {
  return notice(503, "Hors ligne", `<p>Cette page n'est pas gardée sur cette tablette : elle n'a
pas encore été ouverte avec le réseau, ou la personne qui l'avait ouverte s'est déconnectée.</p>
<p><a href="/">Retour à ma page</a> · <a href="/connexion">Se connecter</a> (avec le réseau)</p>`);
}

function loggedOutPage() {
  return notice(200, "Déconnecté", `<p>Vous êtes déconnecté. Vos données ont été effacées de
cette tablette, sauf les fiches qui attendaient encore : elles partiront à votre prochaine
connexion.</p><p>Pas de réseau : la session sera fermée sur le serveur dès son retour.</p>
<p><a href="/connexion">Se connecter</a> (avec le réseau)</p>`);
}

function notice(status, title, body) {
  const html = `<!doctype html><html lang="fr"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<main style="font-family:system-ui;padding:1rem"><h1>${title}</h1>
${body}</main></html>`;
  return new Response(html, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
