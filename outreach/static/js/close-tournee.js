// "Clore la tournée" on the tablet, online or offline alike: the closed tournée leaves through
// the outbox as a change of its record (with the revision it was read at), its count made of
// the rencontres the server has and those still waiting on this tablet. The tablet remembers
// the rounds it closed: their pages and the home page may be copies kept from before, offline.
import { currentUser, getMeta, queue, setMeta, waiting } from "./store.js";
import { refreshStatus } from "./status.js";
import { sync } from "./sync.js";

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
const closedKey = (id) => `closed:${id}`;

// A closed round's page offers neither new rencontres nor closing again.
function showClosed(form, feedback) {
  document.querySelectorAll("[data-open-tournee]").forEach((node) => { node.hidden = true; });
  form.querySelectorAll("[data-closing]").forEach((node) => { node.hidden = true; });
  const heading = form.closest("[data-close-section]")?.querySelector("h2");
  if (heading) heading.textContent = "Tournée close";
  feedback.className = "flash";
}

export async function wireClosing(form) {
  const tournee = JSON.parse(form.dataset.tournee);
  const feedback = document.getElementById("close-feedback");
  const input = form.elements.heure_retour;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!/^\d{2}:\d{2}$/.test(input.value)) {
      feedback.className = "error";
      feedback.textContent = "Heure attendue (HH:MM).";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    const known = new Set(tournee.rencontres);
    const pending = (await waiting()).filter((record) => record.form === "maraude.rencontre"
      && record.parent_id === tournee.id && !known.has(record.id));
    const people = pending.reduce((sum, record) => sum + (record.data.nombre_personnes || 0),
      tournee.people);
    const revision = Math.max(tournee.revision, (await getMeta(`revision:${tournee.id}`)) || 0);
    await queue({
      id: tournee.id, form: "maraude.tournee", form_version: tournee.form_version,
      title: "Tournée de maraude", recorded_at: tournee.recorded_at, recorded_by: currentUser(),
      parent_id: null, base_revision: revision,
      data: { ...tournee.data, heure_retour: input.value, nombre_personnes: people },
    });
    await setMeta(closedKey(tournee.id), { heure_retour: input.value, people });
    showClosed(form, feedback);
    feedback.textContent = `Tournée close : ${plural(people, "personne")} `
      + `rencontrée${people === 1 ? "" : "s"}.`;
    await refreshStatus();
    sync();
  });
  // A page kept from before this tablet closed the round (offline): say it is closed.
  const closed = await getMeta(closedKey(tournee.id));
  if (closed) {
    showClosed(form, feedback);
    feedback.textContent = `Tournée close (retour ${closed.heure_retour}) : `
      + `${plural(closed.people, "personne")} rencontrée${closed.people === 1 ? "" : "s"}.`;
  }
}

// The home page's "En cours", maybe a copy from before: the rounds this tablet closed leave it.
export async function forgetClosedRounds(section) {
  const cards = [...section.querySelectorAll("[data-tournee-card]")];
  const closed = await Promise.all(cards.map((card) => getMeta(closedKey(card.dataset.tourneeCard))));
  cards.forEach((card, index) => { if (closed[index]) card.remove(); });
  if (!section.querySelector("li")) section.hidden = true;
}
