// The status area every page shows: records waiting, the last successful sync, offline.
import { countWaiting, getMeta } from "./store.js";

const area = () => document.getElementById("sync-status");

export async function refreshStatus() {
  const element = area();
  if (!element) return;
  const count = await countWaiting();
  element.querySelector("[data-pending]").textContent =
    count === 0 ? "Aucune fiche en attente" : `${count} fiche${count > 1 ? "s" : ""} en attente`;
  const last = await getMeta("last_sync");
  // Short words, so that the status keeps to two lines beside its button on a phone.
  const moment = new Date(last);
  element.querySelector("[data-last-sync]").textContent = last
    ? `Synchronisé le ${moment.toLocaleDateString("fr-FR", { day: "2-digit", month: "2-digit" })}`
      + ` à ${moment.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" })}`
    : "Pas encore synchronisé";
  element.querySelector("[data-network]").textContent = navigator.onLine ? "" : " · Hors ligne";
}

export function sayExpired() {
  const notice = document.getElementById("session-expired");
  if (!notice) return;
  const back = encodeURIComponent(location.pathname + location.search);
  notice.querySelector("a").href = `/connexion?suivant=${back}`;
  notice.hidden = false;
}
