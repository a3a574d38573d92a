// A tablet the office declared lost (DESIGN §9): at its next contact the server answers 403
// tablette_perdue, and the tablet erases every person's data, keys and kept pages, then says why.
// Only the tablet's id stays, so that the office's page still knows it if it is found again.
import { eraseKeys } from "./crypto.js";
import { closeForGood } from "./store.js";
import { forgetPages } from "./logout.js";

export class TabletLost extends Error {}

export async function eraseTablet() {
  await closeForGood();
  const people = await eraseKeys();
  const named = indexedDB.databases ? (await indexedDB.databases()).map((found) => found.name) : [];
  const names = new Set([...named.filter((name) => name?.startsWith("outreach-")),
                         ...people.map((user) => `outreach-${user}`)]);
  names.delete("outreach-keys");
  await Promise.all([...names].map((name) => new Promise((resolve) => {
    const asked = indexedDB.deleteDatabase(name);
    asked.onsuccess = asked.onerror = asked.onblocked = resolve;
  })));
  // The kept pages through the worker first: a keeping it has under way lands before.
  await forgetPages();
  if (window.caches) {
    for (const name of await caches.keys()) if (!name.startsWith("shell-")) await caches.delete(name);
  }
  const device = localStorage.getItem("outreach-device");
  localStorage.clear();
  if (device) localStorage.setItem("outreach-device", device);
  location.replace("/connexion?perdue=1");
}
