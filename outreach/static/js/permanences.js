// A travailleur social's home, offline: "Mes permanences" (the sessions planned for them, to open
// with site, day and hour filled in) and "À venir" (the follow-up appointments they gave).
// A planned session is held once: its record takes the id its planning gives (`record_id`, from
// the server, outreach/permanences.py), so a second tap reopens it — "Reprendre" — never a second.
import { element, longDay as shown, personName } from "./dom.js";
import { kept, waiting } from "./store.js";
import { isoDay } from "./visits.js";

const SESSION = "permanence.session";
const sameSession = (record, data) => record.form === SESSION
  && (record.id === data.record_id || (record.data.site === data.site && record.data.date === data.date));

function openLink(planned) {
  const { data } = planned;
  const query = new URLSearchParams({ site: data.site, date: data.date, heure_debut: data.starts });
  if (data.ends) query.set("heure_fin", data.ends);
  return element("a", "Ouvrir la permanence", {
    class: "button", href: `/saisie/${SESSION}?${query}`,
  });
}

// Held already (on the server, or waiting on this tablet): its accueils go to that session.
function resumeLink(recordId) {
  return element("a", "Reprendre", {
    class: "button", href: `/saisie/permanence.accueil?parent=${recordId}`,
    "aria-describedby": `session-${recordId}`,
  });
}

export async function showSessions(section) {
  const today = isoDay(new Date());
  const [planned, outbox] = await Promise.all([kept("sessions"), waiting()]);
  const sessions = planned.filter((s) => s.data.date >= today)
    .sort((a, b) => `${a.data.date}${a.data.starts}`.localeCompare(`${b.data.date}${b.data.starts}`));
  const list = section.querySelector("[data-session-list]");
  list.replaceChildren();
  for (const session of sessions) {
    const { data } = session;
    const item = element("li", null, { class: "card" });
    item.append(element("h3", `${shown(data.date)}, ${data.starts}${data.ends ? `–${data.ends}` : ""}`));
    item.append(element("p", data.site_label));
    if (data.site_details) item.append(element("p", data.site_details, { class: "help" }));
    if (data.notes) item.append(element("p", data.notes));
    const waitingHere = outbox.find((record) => sameSession(record, data));
    if (data.held || waitingHere) {
      const recordId = waitingHere?.id || data.record_id;
      item.append(element("p", "Session ouverte : « Reprendre » pour un nouvel accueil.",
        { class: "session-open", id: `session-${recordId}` }));
      item.append(resumeLink(recordId));
    } else {
      item.append(openLink(session));
    }
    list.append(item);
  }
  if (!sessions.length) list.append(element("li", "Aucune permanence planifiée pour vous."));
}

// The session form: saved for a site and a day planned for this person, it is that planned
// session's record (its id, and a change of it when saved again), not a new one. It uses the
// form's "stored record being changed" attributes, which record-form.js reads when saving.
export function wirePlannedSession(form) {
  if (form.dataset.form !== SESSION || form.dataset.recordId) return;
  let planned = [];
  kept("sessions").then((found) => { planned = found; });
  // Before record-form.js's own listener (capture on the form itself runs first).
  form.addEventListener("submit", () => {
    const site = form.querySelector('[name="site"]:checked')?.value ?? form.elements.site?.value;
    const day = form.elements.date?.value;
    const match = planned.find((s) => s.data.record_id && s.data.site === site && s.data.date === day);
    if (match) {
      form.dataset.recordId = match.data.record_id;
      form.dataset.recordedAt ||= new Date().toISOString();
      // Unknown to the server it is created whatever this says; known, it is revision 1 or the
      // one the tablet last heard of (record-form.js takes the higher).
      form.dataset.baseRevision ||= "1";
      form.dataset.plannedSession = match.id;
    } else if (form.dataset.plannedSession) {
      // Changed to a site or a day not planned: a session of its own again.
      for (const key of ["recordId", "recordedAt", "baseRevision", "plannedSession"]) delete form.dataset[key];
    }
  }, { capture: true });
}

export async function showAppointments(section) {
  const today = isoDay(new Date());
  const [appointments, people] = await Promise.all([kept("appointments"), kept("people")]);
  const names = new Map(people.map((p) => [p.id, personName(p.data)]));
  const coming = appointments.filter((a) => a.data.date >= today)
    .sort((a, b) => a.data.date.localeCompare(b.data.date));
  const list = section.querySelector("[data-appointment-list]");
  list.replaceChildren();
  for (const { data } of coming) {
    const who = names.get(data.person_id) || "Personne reçue (anonyme)";
    list.append(element("li", `${shown(data.date)} — ${who} · ${data.motifs.join(", ")}`));
  }
  if (!coming.length) list.append(element("li", "Aucun rendez-vous de suivi à venir."));
}
