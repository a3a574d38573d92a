// Keeping the data on the tablet: ask the browser not to evict it, say how full storage is, warn
// before it is full, and export the waiting records as a last resort (logout keeps them: logout.js).
import { currentUser, waiting } from "./store.js";
import { deviceId } from "./sync.js";
import { protectedTablet, sealForOffice } from "./crypto.js";

const NEARLY_FULL = 0.9;

export async function protectStorage() {
  const info = document.getElementById("storage-info");
  if (!navigator.storage?.persist) return;
  const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  if (!info) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const used = (usage / 1024 / 1024).toFixed(1);
  info.textContent = `Stockage ${persisted ? "protégé" : "non protégé (le navigateur peut l'effacer)"}`
    + ` · ${used} Mo utilisés${quota ? ` sur ${Math.round(quota / 1024 / 1024)} Mo` : ""}.`;
}

export async function nearlyFull() {
  if (!navigator.storage?.estimate) return false;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return quota > 0 && usage / quota > NEARLY_FULL;
}

export async function exportWaiting() {
  // The push envelope itself: an admin imports it through the same path (replays: unchanged).
  const records = (await waiting()).map(
    ({ id, form, form_version, recorded_at, parent_id, base_revision, data }) =>
      ({ id, form, form_version, recorded_at, parent_id, base_revision, data }));
  const body = { device_id: deviceId(), user_id: Number(currentUser()),
                 exported_at: new Date().toISOString(), count: records.length };
  // Sealed with this person's escrow key for this tablet: the file on a USB stick names no one,
  // and only the server, at /admin/import, opens it.
  if (protectedTablet()) body.sealed = await sealForOffice(currentUser(), records);
  else body.records = records;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(body, null, 1)],
    { type: "application/json" }));
  link.download = `fiches-en-attente-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  return records.length;
}
