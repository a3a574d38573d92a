// "Personnes connues", for a maraude team before going out and in the street, offline: the
// aliases met before, with their last encounter — when, where, their needs, what was given.
import { element, personName } from "./dom.js";
import { kept } from "./store.js";

const SHOWN = 40;

const line = (text) => element("p", text);

export async function showKnownPeople(section) {
  const [people, encounters] = await Promise.all([kept("people"), kept("encounters")]);
  const last = new Map(encounters.map((e) => [e.id, e.data]));
  const sorted = people
    .map((person) => ({ person, met: last.get(person.id) }))
    .sort((a, b) => (b.met?.date || "").localeCompare(a.met?.date || ""))
    .slice(0, SHOWN);
  const list = section.querySelector("[data-known-list]");
  list.replaceChildren();
  for (const { person, met } of sorted) {
    const item = element("li", null, { class: "card" });
    item.append(element("h3", personName(person.data)));
    if (person.data.notes) item.append(line(person.data.notes));
    if (met) {
      const day = new Date(met.date).toLocaleDateString("fr-FR", { day: "numeric", month: "long" });
      item.append(line(`Vu le ${day}${met.lieu ? `, ${met.lieu}` : ""}.`));
      if (met.besoins.length) item.append(line(`Besoins : ${met.besoins.join(", ")}.`));
      if (met.prestations.length) item.append(line(`Remis : ${met.prestations.join(", ")}.`));
      if (met.orientations.length) item.append(line(`Orienté vers : ${met.orientations.join(", ")}.`));
    } else {
      item.append(line("Pas encore de rencontre enregistrée."));
    }
    list.append(item);
  }
  section.hidden = sorted.length === 0;
}
