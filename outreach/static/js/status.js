// The status area every page shows: records waiting, the last successful sync, offline.
import { countWaiting, getMeta } from "./store.js";
import { adviseHomeScreen, mayEraseAfterSevenDays } from "./safari.js";

const area = () => document.getElementById("sync-status");

export async function refreshStatus() {
  const element = area();
  if (!element) return;
  const count = await countWaiting();
  element.querySelector("[data-pending]").textContent =
    count === 0 ? "Aucune fiche en attente" : `${count} fiche${count > 1 ? "s" : ""} en attente`
      + (mayEraseAfterSevenDays() ? erasable(count) : "");
  const last = await getMeta("last_sync");
  // Short words, so that the status keeps to two lines beside its button on a phone.
  const moment = new Date(last);
  element.querySelector("[data-last-sync]").textContent = last
    ? `Synchronisé le ${moment.toLocaleDateString("fr-FR", { day: "2-digit", month: "2-digit" })}`
      + ` à ${moment.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" })}`
    : "Pas encore synchronisé";
  element.querySelector("[data-network]").textContent = navigator.onLine ? "" : " · Hors ligne";
  warnIfStale(count, last);
  adviseHomeScreen();
}

// Safari outside the home screen erases what waits after seven days without Outreach opened:
// said where the count is, as sending them is what saves them. ("Sans visite" would read as a
// visite de convivialité.)
function erasable(count) {
  const them = count > 1 ? "les " : "l'";
  return ` : Safari peut ${them}effacer après 7 jours sans ouvrir Outreach. Synchronisez.`;
}

const DAY = 24 * 3600 * 1000;

// The home page's warning: records wait, and the tablet has not reached the server for longer
// than the CCAS allows (OUTREACH_STALE_SYNC_DAYS). Whole days, as a person counts them.
function warnIfStale(count, last) {
  const warning = document.getElementById("stale-sync");
  if (!warning) return;
  const allowed = Number(warning.dataset.afterDays || 1) * DAY;
  const since = last ? Date.now() - new Date(last).getTime() : Infinity;
  warning.hidden = count === 0 || since <= allowed;
  if (warning.hidden) return;
  const waiting = `${count} fiche${count > 1 ? "s attendent" : " attend"} sur cette tablette`;
  const days = Math.floor(since / DAY);
  const said = last
    ? `Dernière synchronisation il y a ${days} jour${days > 1 ? "s" : ""}`
    : "Cette tablette n'a encore jamais synchronisé";
  warning.textContent = `${said} : ${waiting}. Dès que le réseau revient, touchez `
    + "« Synchroniser » pour les envoyer au CCAS.";
}

export function sayExpired() {
  const notice = document.getElementById("session-expired");
  if (!notice) return;
  const back = encodeURIComponent(location.pathname + location.search);
  notice.querySelector("a").href = `/connexion?suivant=${back}`;
  notice.hidden = false;
}
