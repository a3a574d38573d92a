// "Mes visites": a visiteur's seniors from the tablet's working set, offline — who is overdue,
// who is due this week — with what a visit needs: address, phone, the person to alert, the last
// visit's notes. Also what a saved visite changes on the tablet before the server answers, and
// what to do when a senior does not answer the door.
import { element, longDay as shown, personName, phoneLink } from "./dom.js";
import { formVersions, kept, putKept } from "./store.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const RHYTHM_DAYS = { hebdomadaire: 7, quinzaine: 14 };

export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const fromIso = (day) => new Date(`${day}T12:00:00`);

// The same rule as the server (outreach/visits.py): the day set at the visit, else the rhythm's.
export function nextDue(visitDay, rhythm, asked) {
  if (asked && asked > visitDay) return asked;
  const day = fromIso(visitDay);
  if (rhythm in RHYTHM_DAYS) return isoDay(new Date(day.getTime() + RHYTHM_DAYS[rhythm] * DAY_MS));
  const next = new Date(day.getFullYear(), day.getMonth() + 1, 1, 12);
  const last = new Date(next.getFullYear(), next.getMonth() + 1, 0).getDate();
  next.setDate(Math.min(day.getDate(), last));
  return isoDay(next);
}

// Only a visite that saw the senior moves the next one on, unless "Prochaine visite" was set
// (outreach/visits.py): a senior not seen stays due. Null: the visite does not move it.
export function movedTo(visitDay, rhythm, asked, seen) {
  if (asked && asked > visitDay) return asked;
  return seen ? nextDue(visitDay, rhythm, null) : null;
}

export const wasSeen = (data) => (data.personne_vue ?? "oui") === "oui";

function endOfWeek(today) {
  const day = fromIso(today);
  const toSunday = (7 - day.getDay()) % 7;
  return isoDay(new Date(day.getTime() + toSunday * DAY_MS));
}

function card(visit, person, today) {
  const { data } = visit;
  const item = element("li", null, { class: "card visit" });
  item.append(element("h4", personName(person)));
  const due = data.next_due < today ? `En retard : prévue le ${shown(data.next_due)}`
    : `À voir le ${shown(data.next_due)} au plus tard`;
  item.append(element("p", `${due} · ${data.rhythm_label.toLowerCase()}, ${data.mode_label.toLowerCase()}`,
    { class: data.next_due < today ? "overdue" : "" }));
  if (person?.adresse) item.append(element("p", `Adresse : ${person.adresse}`));
  if (person?.telephone) {
    const line = element("p", "Téléphone : ");
    line.append(phoneLink(person.telephone, "Appeler"));
    item.append(line);
  }
  if (person?.contact_urgence || person?.telephone_urgence) {
    const line = element("p", `Personne à prévenir : ${person.contact_urgence || ""} `);
    if (person.telephone_urgence) line.append(phoneLink(person.telephone_urgence, "Appeler la personne à prévenir"));
    item.append(line);
  }
  const last = data.last_visit;
  if (last?.seen === false) {
    // Said in the visite's own words ("Absente / pas de réponse", "Refus"): still to visit.
    const answer = (last.shown || []).find(([label]) => label === "Personne vue")?.[1] || "Personne non vue";
    item.append(element("p", `${answer} lors de la visite du ${shown(last.date)} : la visite reste à faire.`,
      { class: "overdue not-seen" }));
  }
  if (last) {
    const facts = (last.shown || []).map(([label, value]) => `${label} : ${value}`).join(" · ");
    item.append(element("p", `Dernière visite le ${shown(last.date)}${last.by ? ` par ${last.by}` : ""} : ${facts}`,
      { class: "last-visit" }));
  } else {
    item.append(element("p", "Pas encore de visite enregistrée."));
  }
  item.append(element("a", "Saisir la visite", {
    class: "button", href: `/saisie/visite.visite?personne=${visit.data.person_id}`,
  }));
  return item;
}

export async function showVisits(section) {
  const [visits, people] = await Promise.all([kept("visits"), kept("people")]);
  const byId = new Map(people.map((person) => [person.id, person.data]));
  const today = isoDay(new Date());
  const sunday = endOfWeek(today);
  visits.sort((a, b) => a.data.next_due.localeCompare(b.data.next_due));
  const groups = [
    ["En retard", visits.filter((v) => v.data.next_due < today)],
    ["Cette semaine", visits.filter((v) => v.data.next_due >= today && v.data.next_due <= sunday)],
    ["Plus tard", visits.filter((v) => v.data.next_due > sunday)],
  ];
  const holder = section.querySelector("[data-visit-list]");
  holder.replaceChildren();
  if (!visits.length) {
    holder.append(element("p", "Aucun senior ne vous est confié pour l'instant (ou la tablette n'a pas encore été synchronisée)."));
    return;
  }
  for (const [title, group] of groups) {
    if (!group.length) continue;
    holder.append(element("h3", `${title} (${group.length})`));
    const list = element("ul", null, { class: "cards" });
    for (const visit of group) list.append(card(visit, byId.get(visit.data.person_id), today));
    holder.append(list);
  }
}

// The last visit's facts as the server sends them (outreach/working_set.py): label and value.
const LAST_VISIT_FIELDS = ["mode", "personne_vue", "etat_general", "besoins", "alerte", "notes"];

async function facts(data) {
  const definition = (await formVersions("visite.visite")).at(-1);
  const shown = [];
  for (const field of definition?.fields || []) {
    const value = data[field.key];
    if (!LAST_VISIT_FIELDS.includes(field.key) || value === undefined || value === null
        || (field.key === "alerte" && value === "aucune")) continue;
    const labels = new Map((field.choices || []).map((choice) => [choice.value, choice.label]));
    shown.push([field.label, [].concat(value).map((v) => labels.get(v) ?? v).join(", ")]);
  }
  if (!definition && data.notes) shown.push(["Notes", data.notes]);
  return shown;
}

// A visite saved on the tablet changes its senior's card at once, as the server will: the next
// visit moves on only if the senior was seen (or the next visit was set); the last visit is this one.
export async function visitSaved(data) {
  if (!data.personne || !data.date) return;
  const seen = wasSeen(data);
  const shownFacts = await facts(data);
  for (const visit of await kept("visits")) {
    if (visit.data.person_id !== data.personne) continue;
    const next = movedTo(data.date, visit.data.rhythm, data.prochaine_visite, seen);
    const before = visit.data.last_visit;
    const latest = !before?.date || data.date >= before.date;
    await putKept("visits", { ...visit, data: { ...visit.data,
      next_due: next && latest ? next : visit.data.next_due,
      last_visit: latest ? { date: data.date, by: "vous", seen, shown: shownFacts } : before } });
  }
}

// "Absence de réponse" at a senior's door: whom to call, right away, offline too.
export function guideNoAnswer(form) {
  const box = element("div", null, { class: "notice-box", role: "alert", id: "que-faire" });
  box.hidden = true;
  form.querySelector('[name="alerte"]')?.closest("fieldset")?.after(box);
  const update = async () => {
    const chosen = form.querySelector('[name="alerte"]:checked')?.value;
    box.hidden = chosen !== "absence_reponse";
    if (box.hidden) return;
    const personId = form.elements.personne?.value;
    const person = (await kept("people")).find((p) => p.id === personId)?.data || {};
    box.replaceChildren(element("h3", "Absence de réponse : que faire"));
    const steps = element("ol");
    const first = element("li", "Appelez la personne à prévenir : ");
    if (person.telephone_urgence) {
      first.append(`${person.contact_urgence || ""} `, phoneLink(person.telephone_urgence, "Appeler la personne à prévenir"));
    } else {
      first.append("aucun numéro enregistré pour ce senior.");
    }
    steps.append(first);
    const coordination = document.body.dataset.coordinationPhone;
    const second = element("li", "Puis la coordination : ");
    second.append(coordination ? phoneLink(coordination, "Appeler la coordination") : "numéro non renseigné (voir l'administrateur).");
    steps.append(second);
    steps.append(element("li", "En cas de danger : le 15 (SAMU) ou le 112."));
    box.append(steps);
  };
  form.addEventListener("change", update);
  update();
}
