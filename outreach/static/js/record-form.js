// A form rendered from its definition, saved to the outbox whether online or not. The checks
// mirror the server's (same definition, same French messages); the server checks again.
import {
  currentUser, fixRecord, formVersions, getMeta, rememberPlace, offlinePeople, queue, referenceLists,
  requeueCorrected,
} from "./store.js";
import { personName } from "./dom.js";
import { drawForm } from "./form-render.js";
import { offerPlaces } from "./places.js";
import { FORMATS, ageProblem } from "./rules.js";
import { guideNoAnswer, visitSaved } from "./visits.js";
import { parentId, prefilled, startValues } from "./start-values.js";
import { newId, sync } from "./sync.js";
import { refreshStatus } from "./status.js";
import { nearlyFull } from "./keep.js";

const REQUIRED = "Ce champ est obligatoire.";
const TEXT_MAX = { text: 500, textarea: 5000 };

export function readForm(form, definition) {
  const data = {};
  const values = new FormData(form);
  for (const field of definition.fields) {
    const { key, type } = field;
    if (type === "multi") {
      const chosen = values.getAll(key);
      if (chosen.length || field.required) data[key] = chosen;
      continue;
    }
    const value = type === "place" ? place(values, key) : scalar(type, values.get(key) ?? "");
    if (value !== null) data[key] = value;
  }
  return data;
}

function scalar(type, raw) {
  if (!raw.trim()) return null;
  if (type === "integer" || type === "counter") return /^-?\d{1,9}$/.test(raw.trim()) ? Number(raw) : raw;
  if (type === "boolean") return raw === "oui" ? true : raw === "non" ? false : raw;
  if (type === "datetime") return new Date(raw).toISOString();
  return type === "text" || type === "textarea" ? raw : raw.trim();
}

function place(values, key) {
  const label = (values.get(`${key}.label`) || "").trim();
  const lat = (values.get(`${key}.lat`) || "").trim();
  const lon = (values.get(`${key}.lon`) || "").trim();
  if (!label && !lat && !lon) return null;
  const number = (raw) => (raw ? Number(raw.replace(",", ".")) : null);
  return { label, lat: number(lat), lon: number(lon) };
}

const missing = (value) => value === undefined || value === null || value === ""
  || (Array.isArray(value) && value.length === 0) || (typeof value === "string" && !value.trim());

export function check(definition, data) {
  const errors = {};
  const add = (key, message) => { (errors[key] ||= []).push(message); };
  for (const field of definition.fields) {
    const value = data[field.key];
    const condition = field.required_if;
    const needed = field.required || (condition && data[condition.field] === condition.equals);
    const accepted = field.accepted_if;
    if (accepted && data[accepted.field] === accepted.equals && data[field.key] !== true) {
      add(field.key, accepted.message);
      continue;
    }
    if (missing(value)) {
      if (needed) add(field.key, field.type === "multi" ? "Cochez au moins un choix." : REQUIRED);
      continue;
    }
    const problem = checkValue(field, value) || (field.age_rule && ageProblem(field, data, definition));
    if (problem) add(field.key, problem);
  }
  const parts = {};
  for (const field of definition.fields) {
    if (field.part_of) (parts[field.part_of] ||= []).push(field);
  }
  for (const [total, fields] of Object.entries(parts)) {
    const sum = fields.reduce((acc, f) => acc + (Number.isInteger(data[f.key]) ? data[f.key] : 0), 0);
    if (Number.isInteger(data[total]) && sum > data[total]) {
      const names = fields.map((f) => f.label.toLowerCase()).join(" + ");
      for (const f of fields) add(f.key, `${names} ne peut pas dépasser ${data[total]}.`);
    }
  }
  return errors;
}

function checkValue(field, value) {
  const { type } = field;
  if (field.format && FORMATS[field.format] && value.trim()
      && !FORMATS[field.format][0].test(value.trim())) return FORMATS[field.format][1];
  if (type in TEXT_MAX && value.length > TEXT_MAX[type]) {
    return `${TEXT_MAX[type]} caractères au plus (${value.length} saisis).`;
  }
  if (type === "integer" || type === "counter") {
    if (!Number.isInteger(value)) return "Nombre entier attendu.";
    if (field.min !== undefined && value < field.min) return `Au moins ${field.min}.`;
    if (field.max !== undefined && value > field.max) return `Au plus ${field.max}.`;
  }
  if (type === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return "Date attendue (AAAA-MM-JJ).";
  if (type === "time" && !/^\d{2}:\d{2}$/.test(value)) return "Heure attendue (HH:MM).";
  if (type === "boolean" && typeof value !== "boolean") return "Oui ou non attendu.";
  if ((type === "choice" || type === "multi") && field.choices) {
    const known = new Set(field.choices.map((c) => c.value));
    const given = type === "multi" ? value : [value];
    if (given.some((v) => !known.has(v))) return "Choix inconnu.";
  }
  if (type === "place") {
    if (!value.label) return "Nommez le lieu.";
    if ((value.lat === null) !== (value.lon === null)) {
      return "Donnez la latitude et la longitude, ou aucune des deux.";
    }
    if (value.lat !== null && (Number.isNaN(value.lat) || Number.isNaN(value.lon)
        || Math.abs(value.lat) > 90 || Math.abs(value.lon) > 180)) return "Coordonnées hors limites.";
  }
  return null;
}

function showErrors(form, errors) {
  form.querySelectorAll("[data-client-error]").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  for (const [key, messages] of Object.entries(errors)) {
    const input = form.querySelector(`[name="${key}"], [name="${key}.label"]`);
    const holder = input?.closest(".field");
    if (!holder) continue;
    const note = document.createElement("p");
    note.className = "error";
    note.id = `erreur-${key}`;
    note.dataset.clientError = "";
    note.textContent = messages.join(" ");
    holder.append(note);
    (holder.matches("fieldset") ? holder : input).setAttribute("aria-invalid", "true");
  }
  const summary = document.getElementById("form-feedback");
  const count = Object.keys(errors).length;
  summary.className = count ? "error-summary" : "flash";
  summary.textContent = count
    ? `La fiche n'est pas enregistrée : corrigez ${count} champ${count > 1 ? "s" : ""}.` : "";
}

// The confirmation is where the person looks next, focused (read out: a live region) and in view,
// not off-screen at the top of a long form.
export function showSaved(feedback) {
  if (!feedback.hasAttribute("tabindex")) feedback.tabIndex = -1;
  feedback.focus({ preventScroll: true });
  feedback.scrollIntoView({ block: "center" });
}

// "Fiche enregistrée", and from a tournée or a session, the way to its rencontres or accueils.
function confirmSaved(form, id) {
  const feedback = document.getElementById("form-feedback");
  feedback.className = "flash";
  feedback.textContent = "Fiche enregistrée. ";
  for (const child of JSON.parse(form.dataset.children || "[]")) {
    const link = document.createElement("a");
    link.className = "button";
    link.href = `${child.href}?parent=${id}`;
    link.textContent = child.label;
    feedback.append(link);
  }
  showSaved(feedback);
}

function fill(form, definition, data) {
  for (const field of definition.fields) {
    const value = data[field.key];
    if (value === undefined || value === null) continue;
    const inputs = form.querySelectorAll(`[name="${field.key}"]`);
    if (field.type === "place") {
      form.elements[`${field.key}.label`].value = value.label ?? "";
      form.elements[`${field.key}.lat`].value = value.lat ?? "";
      form.elements[`${field.key}.lon`].value = value.lon ?? "";
    } else if (field.type === "multi" || field.type === "choice" || field.type === "boolean") {
      const chosen = field.type === "boolean" ? [value ? "oui" : "non"] : [].concat(value);
      inputs.forEach((input) => { input.checked = chosen.includes(input.value); });
    } else if (inputs[0]) {
      inputs[0].value = value;
    }
  }
}

// Opened from "À corriger" (?corriger=<id>): the refused record, its data and its errors.
async function refusedRecord() {
  const id = new URLSearchParams(location.search).get("corriger");
  return id ? fixRecord(id) : null;
}

// The version to draw: a refused record's own version; else the newest the tablet holds, which
// may be newer than the page kept offline (the form changed while the tablet was away). A stored
// record being changed keeps the version the server drew it with.
async function chooseDefinition(form, page, refused) {
  if (form.dataset.recordId) return page;
  const versions = await formVersions(page.key);
  if (refused) return versions.find((d) => d.version === refused.form_version) || page;
  const newest = versions.at(-1);
  return newest && newest.version > page.version ? newest : page;
}

// A person field offers the people kept on the tablet, and a search among them.
async function offerPeople(form) {
  const selects = form.querySelectorAll("select[data-person]");
  if (!selects.length) return;
  const people = (await offlinePeople())
    .sort((a, b) => personName(a.data).localeCompare(personName(b.data), "fr"));
  for (const select of selects) {
    const known = new Set([...select.options].map((option) => option.value));
    for (const person of people) {
      if (!known.has(person.id)) select.add(new Option(personName(person.data), person.id));
    }
    const search = form.querySelector(`#${select.id}-search`);
    search?.addEventListener("input", () => {
      const wanted = search.value.trim().toLowerCase();
      for (const option of select.options) {
        option.hidden = Boolean(option.value) && !option.text.toLowerCase().includes(wanted);
      }
    });
  }
}

// After a save, the form is empty again: what guided the last record goes with it (the "que
// faire" of an absence), and the next one starts with what is known.
async function startAgain(form, definition) {
  form.reset();
  fill(form, definition, await startValues(form, definition));
  form.querySelectorAll(".notice-box").forEach((box) => { box.hidden = true; });
  // Guidance follows the answers: let it read them again, now empty.
  form.dispatchEvent(new Event("change", { bubbles: true }));
}

// A stored record being changed keeps its id, time and parent, and names the revision it was
// read at: changed meanwhile by someone else, it comes back as a conflict, never overwritten.
async function changedRecord(form, definition, data) {
  const { recordId, baseRevision, recordedAt, parentId: parent } = form.dataset;
  const known = (await getMeta(`revision:${recordId}`)) || 0;
  return {
    id: recordId, form: definition.key, form_version: definition.version, title: definition.title,
    recorded_at: recordedAt, recorded_by: currentUser(), parent_id: parent || null,
    base_revision: Math.max(Number(baseRevision), known), data,
  };
}

export async function wireRecordForm(form) {
  const page = JSON.parse(document.getElementById("form-definition").textContent);
  const refused = await refusedRecord();
  const definition = await chooseDefinition(form, page, refused);
  if (definition !== page) drawForm(form, definition, await referenceLists());
  await offerPeople(form);
  await offerPlaces(form);
  // Opened from "Mes visites" (?personne=<id>) or "Mes permanences" (?site=…&date=…): those
  // answers are filled in already.
  if (!refused && !form.dataset.recordId) {
    fill(form, definition, { ...(await startValues(form, definition)), ...prefilled(definition) });
  }
  if (definition.key === "visite.visite") guideNoAnswer(form);
  if (refused) {
    fill(form, definition, refused.data);
    showErrors(form, refused.errors || {});
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = readForm(form, definition);
    const errors = check(definition, data);
    showErrors(form, errors);
    if (Object.keys(errors).length) {
      document.getElementById("form-feedback").focus();
      return;
    }
    if (await nearlyFull()) {
      window.alert("Stockage presque plein : synchronisez, ou exportez les fiches en attente.");
    }
    if (refused) {
      await requeueCorrected({ ...refused, form_version: definition.version, data });
      location.assign("/a-corriger");
      return;
    }
    if (form.dataset.recordId) {
      await queue(await changedRecord(form, definition, data));
      confirmSaved(form, form.dataset.recordId);
      await refreshStatus();
      sync();
      return;
    }
    const id = newId();
    await queue({
      id, form: definition.key, form_version: definition.version, title: definition.title,
      recorded_at: new Date().toISOString(), recorded_by: currentUser(),
      parent_id: parentId(form), base_revision: null, data,
    });
    if (definition.key === "visite.visite") await visitSaved(data);
    if (definition.key === "maraude.tournee") await rememberPlace(data.secteur, id);
    if (definition.parent === "maraude.tournee" && data.lieu) await rememberPlace(data.lieu.label, parentId(form));
    await startAgain(form, definition);
    confirmSaved(form, id);
    await refreshStatus();
    sync();
  });
}
