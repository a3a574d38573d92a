// Outreach service worker: a revisioned precache for the shell, network-first pages with a
// timeout, and nothing but final 200 answers kept. Strategies as in Workbox, without Workbox.
const VERSION = {{ version|tojson }};
const SHELL = {{ shell|tojson }};
const SHELL_CACHE = `shell-${VERSION}`;
const PAGES_CACHE = "pages";
const PAGE_TIMEOUT_MS = 3000;

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
  if (message.type === "forget-pages") event.waitUntil(inTurn(() => caches.delete(PAGES_CACHE)));
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
    event.respondWith(networkFirst(request));
  }
});

function keepable(response) {
  // Never a redirect (to /connexion), never an error page: only a final 200 of our own.
  return response && response.status === 200 && !response.redirected && response.type === "basic";
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (keepable(response)) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    // Pages vary on the session cookie, which changes as the session does (a CSRF token kept
    // in it): the cache is this person's alone (forgotten when the person changes), so the
    // cookie a page was kept with does not matter.
    const kept = await cache.match(request, { ignoreVary: true })
      || await cache.match(request, { ignoreSearch: true, ignoreVary: true });
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
  const cache = await caches.open(PAGES_CACHE);
  await Promise.all(urls.map(async (url) => {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (keepable(response)) await cache.put(url, response);
    } catch (error) { /* offline now: the page is kept at its next online visit */ }
  }));
}

async function askPagesToSync() {
  for (const client of await self.clients.matchAll({ type: "window" })) {
    client.postMessage({ type: "sync-now" });
  }
}

function offlinePage() {
  const html = `<!doctype html><html lang="fr"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hors ligne</title>
<main style="font-family:system-ui;padding:1rem"><h1>Hors ligne</h1>
<p>Cette page n'a pas encore été ouverte avec le réseau sur cette tablette.</p>
<p><a href="/">Retour à l'accueil</a></p></main></html>`;
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
