// What a new record starts with, known without asking: the answers given in the address
// ("Mes visites", "Mes permanences"), today and now, and the place a team is at.
import { lastPlace } from "./store.js";
import { isoDay } from "./visits.js";

// The page may come from the offline cache, kept for another parent: the address tells.
export function parentId(form) {
  return new URLSearchParams(location.search).get("parent") || form.elements.parent?.value || null;
}

const PREFILLABLE = new Set(["text", "date", "time", "choice", "person"]);

export function prefilled(definition) {
  const query = new URLSearchParams(location.search);
  const data = {};
  for (const field of definition.fields) {
    if (PREFILLABLE.has(field.type) && query.get(field.key)) data[field.key] = query.get(field.key);
  }
  return data;
}

// The day and the start of what is recorded: today and now, until the person says otherwise.
const NOW_FIELDS = { date: "date", heure_depart: "time", heure_debut: "time" };

// What a new record starts with, known without asking: today and now in those fields, and for a
// rencontre from a tournée the place the team is at, else the tournée's secteur. A field already
// filled keeps its value.
export async function startValues(form, definition) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const data = {};
  for (const field of definition.fields) {
    if (NOW_FIELDS[field.key] !== field.type) continue;
    data[field.key] = field.type === "date" ? isoDay(now) : `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  }
  const parent = parentId(form);
  const lieu = definition.fields.find((field) => field.type === "place");
  if (parent && lieu && definition.parent === "maraude.tournee") {
    // The secteur the server wrote is that of the tournée the page was drawn for.
    const secteur = form.elements.parent?.value === parent ? form.dataset.parentSecteur : "";
    const label = (await lastPlace(parent)) || secteur;
    if (label) data[lieu.key] = { label, lat: null, lon: null };
  }
  for (const key of Object.keys(data)) {
    const input = form.elements[key] || form.elements[`${key}.label`];
    if (input?.value) delete data[key];
  }
  return data;
}
