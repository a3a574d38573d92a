// A travailleur social's home, offline: "Mes permanences" (the sessions planned for them, to open
// with site, day and hour filled in) and "À venir" (the follow-up appointments they gave).
import { element, longDay as shown, personName } from "./dom.js";
import { kept } from "./store.js";
import { isoDay } from "./visits.js";

export async function showSessions(section) {
  const today = isoDay(new Date());
  const sessions = (await kept("sessions")).filter((s) => s.data.date >= today)
    .sort((a, b) => `${a.data.date}${a.data.starts}`.localeCompare(`${b.data.date}${b.data.starts}`));
  const list = section.querySelector("[data-session-list]");
  list.replaceChildren();
  for (const { data } of sessions) {
    const item = element("li", null, { class: "card" });
    item.append(element("h3", `${shown(data.date)}, ${data.starts}${data.ends ? `–${data.ends}` : ""}`));
    item.append(element("p", data.site_label));
    if (data.site_details) item.append(element("p", data.site_details, { class: "help" }));
    if (data.notes) item.append(element("p", data.notes));
    const query = new URLSearchParams({ site: data.site, date: data.date, heure_debut: data.starts });
    if (data.ends) query.set("heure_fin", data.ends);
    item.append(element("a", "Ouvrir la permanence", {
      class: "button", href: `/saisie/permanence.session?${query}`,
    }));
    list.append(item);
  }
  if (!sessions.length) list.append(element("li", "Aucune permanence planifiée pour vous."));
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
