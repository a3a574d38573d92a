// "Mes alertes": what became of the alerts this person raised, as the last pull told, each
// with the person it is about — named from the tablet's own people (whom this agent may see,
// as they may see them), never from the alert itself.
import { element, personName } from "./dom.js";
import { kept, offlinePeople } from "./store.js";

const when = (iso) => new Date(iso).toLocaleString("fr-FR",
  { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });

function describe(data) {
  if (data.status === "close") return `Close le ${when(data.closed_at)} : ${data.outcome || ""}`;
  if (data.status === "prise_en_charge") {
    return `Prise en charge par ${data.taken_by_name || "la coordination"} le ${when(data.taken_at)}`;
  }
  return "Nouvelle : pas encore prise en charge";
}

function about(data, people) {
  if (!data.person_id) return "personne non nommée";
  const person = people.get(data.person_id);
  return person ? personName(person) : "personne absente de cette tablette";
}

export async function showAlerts(section) {
  const [alerts, known] = await Promise.all([kept("alerts"), offlinePeople()]);
  const people = new Map(known.map(({ id, data }) => [id, data]));
  alerts.sort((a, b) => b.data.raised_at.localeCompare(a.data.raised_at));
  const list = section.querySelector("[data-alert-list]");
  list.replaceChildren();
  for (const { data } of alerts) {
    const item = element("li", null, { class: `card alert-${data.status}` });
    item.append(element("h3", `${data.kind_label} — ${about(data, people)}`),
      element("p", `Signalée le ${when(data.raised_at)}`), element("p", describe(data)));
    list.append(item);
  }
  section.hidden = alerts.length === 0;
}
