// "Mes appels": the calls of an alert plan given to this person, from the tablet's working set,
// offline. Each outcome is two taps — joint et va bien / joint, besoin (which one) / pas de
// réponse — and goes to the outbox as a `plan.appel` record whose id the task and the step fix:
// the same call saved twice stays one record, here and on the server (outreach/alert_plans.py).
// An outcome can be taken back for a few seconds ("Annuler", undo.js): the card is as it was.
import { element, frenchDate, phoneLink } from "./dom.js";
import { currentUser, formVersions, kept, putKept } from "./store.js";
import { showSaved } from "./record-form.js";
import { saveWithUndo } from "./undo.js";

const STEP_OF = { a_appeler: "premier_appel", a_rappeler: "second_appel",
  personne_a_prevenir: "personne_a_prevenir" };
const STATUS_LABELS = { joint: "Joint, va bien", besoin: "Joint, a un besoin",
  injoignable: "Injoignable : la coordination envoie quelqu'un", a_appeler: "À appeler",
  a_rappeler: "À rappeler", personne_a_prevenir: "Appeler la personne à prévenir" };
const hour = (iso) => new Date(iso).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });

// The same rule as the server: two unanswered calls lead to the person to alert, a third to a visit.
export function statusAfter(step, issue) {
  if (issue === "joint_va_bien") return "joint";
  if (issue === "joint_besoin") return "besoin";
  return { premier_appel: "a_rappeler", second_appel: "personne_a_prevenir" }[step] || "injoignable";
}

function say(text) {
  const feedback = document.getElementById("form-feedback");
  feedback.className = "flash";
  feedback.textContent = text;
  return feedback;
}

const redraw = () => window.dispatchEvent(new CustomEvent("outreach:pulled"));  // from the tablet

// The newest version of the call form this tablet holds: its version, and the needs it offers.
async function callForm() {
  const versions = await formVersions("plan.appel");
  return versions[versions.length - 1];
}

async function recordCall(form, task, issue, needs = [], precision = "") {
  // One outcome per tap: a second tap on the same card before it is drawn again does nothing.
  const card = document.getElementById(`appel-${task.id}`);
  if (card?.dataset.saving) return;
  if (card) card.dataset.saving = "1";
  const step = STEP_OF[task.data.status];
  const data = { plan: task.data.plan_id, tache: task.id, etape: step, issue };
  if (needs.length) data.besoins = needs;
  if (precision.trim()) data.precision = precision.trim();
  const now = new Date().toISOString();
  const record = { id: task.data.step_ids[step], form: "plan.appel", form_version: form?.version || 1,
    title: form?.title || "Appel d'un plan d'alerte", recorded_at: now,
    recorded_by: currentUser(), parent_id: null, base_revision: null, data };
  const status = statusAfter(step, issue);
  await putKept("calls", { ...task, data: { ...task.data, status, needs,
    attempts: task.data.attempts + 1, last_call_at: now } });
  const feedback = say(`Appel enregistré : ${task.data.name}, ${STATUS_LABELS[status].toLowerCase()}.`);
  await saveWithUndo(record, feedback, {
    undone: `Appel annulé : ${task.data.name}, rien n'est envoyé.`,
    // The card as it was (the same step to call again); the outbox as it was is undo.js's.
    onUndo: async () => { await putKept("calls", task); redraw(); },
  });
  redraw();
  showSaved(feedback);
}

function line(text, number, label) {
  const paragraph = element("p", text);
  if (number) paragraph.append(" ", phoneLink(number, label));
  return paragraph;
}

function outcomeButtons(form, task) {
  const holder = element("div", null, { class: "call-outcomes" });
  const toContact = task.data.status === "personne_a_prevenir";
  const who = toContact ? "la personne à prévenir" : task.data.name;
  const fine = element("button", "Joint, va bien", { type: "button", class: "big" });
  const need = element("button", "Joint, besoin…", { type: "button", class: "big secondary",
    "aria-expanded": "false" });
  const silent = element("button", toContact && !task.data.contact_phone
    ? "Pas de personne à prévenir joignable" : "Pas de réponse", { type: "button", class: "big secondary" });
  for (const button of [fine, need, silent]) button.setAttribute("aria-describedby", `appel-${task.id}`);
  const needs = element("fieldset", null, { class: "call-needs" });
  needs.hidden = true;
  needs.append(element("legend", `Quel besoin pour ${task.data.name} ?`));
  const precision = element("input", null, { id: `precision-${task.id}`, name: "precision" });
  const offered = form?.fields.find((field) => field.key === "besoins")?.choices || [];
  for (const { value, label } of offered) {
    const button = element("button", label, { type: "button", class: "big" });
    button.addEventListener("click", () => recordCall(form, task, "joint_besoin", [value], precision.value));
    needs.append(button);
  }
  const precisionLabel = element("label", "Précision (facultatif)", { for: precision.id });
  needs.append(precisionLabel, precision);
  fine.addEventListener("click", () => recordCall(form, task, "joint_va_bien"));
  silent.addEventListener("click", () => recordCall(form, task, "pas_de_reponse"));
  need.addEventListener("click", () => {
    needs.hidden = !needs.hidden;
    need.setAttribute("aria-expanded", String(!needs.hidden));
    if (!needs.hidden) needs.querySelector("button").focus();
  });
  holder.append(element("p", `Résultat de l'appel à ${who} :`, { class: "help" }), fine, need, silent, needs);
  return holder;
}

function card(form, task) {
  const { data } = task;
  const item = element("li", null, { class: "card call", id: `appel-${task.id}` });
  item.append(element("h3", data.name));
  const step = data.status === "a_rappeler" ? `Second appel (premier sans réponse à ${hour(data.last_call_at)})`
    : data.status === "personne_a_prevenir" ? "Deux appels sans réponse : appelez la personne à prévenir"
      : "Premier appel";
  item.append(element("p", step, { class: data.status === "a_appeler" ? "" : "overdue" }));
  item.append(line("Téléphone :", data.phone, `Appeler ${data.name}`));
  if (data.contact || data.contact_phone) {
    item.append(line(`Personne à prévenir : ${data.contact || ""}`, data.contact_phone, "Appeler la personne à prévenir"));
  } else if (data.status === "personne_a_prevenir") {
    item.append(element("p", "Aucune personne à prévenir enregistrée."));
  }
  if (data.address) item.append(element("p", `Adresse : ${data.address}`));
  if (data.home_care) item.append(element("p", `Service à domicile : ${data.home_care}`));
  if (data.notes) item.append(element("p", `À savoir : ${data.notes}`));
  const last = data.last_visit;
  if (last) {
    const facts = (last.shown || []).map(([label, value]) => `${label} : ${value}`).join(" · ");
    item.append(element("p", `Dernière visite le ${frenchDate(last.date)}${last.by ? ` par ${last.by}` : ""} : ${facts}`, { class: "last-visit" }));
  }
  item.append(outcomeButtons(form, task));
  return item;
}

export async function showCalls(section) {
  const [keptCalls, form] = await Promise.all([kept("calls"), callForm()]);
  const calls = keptCalls.sort((a, b) => a.data.name.localeCompare(b.data.name, "fr"));
  const holder = section.querySelector("[data-call-list]");
  holder.replaceChildren();
  if (!calls.length) {
    holder.append(element("p", "Aucun appel ne vous est confié (ou la tablette n'a pas encore été synchronisée)."));
    return;
  }
  holder.append(element("h2", calls[0].data.plan_title));
  holder.append(element("blockquote", calls[0].data.message, { class: "call-message" }));
  const groups = [["Deux appels sans réponse", ["personne_a_prevenir"]], ["À rappeler", ["a_rappeler"]],
    ["À appeler", ["a_appeler"]]];
  for (const [title, statuses] of groups) {
    const group = calls.filter((call) => statuses.includes(call.data.status));
    if (!group.length) continue;
    holder.append(element("h3", `${title} (${group.length})`));
    const list = element("ul", null, { class: "cards" });
    for (const call of group) list.append(card(form, call));
    holder.append(list);
  }
  const done = calls.filter((call) => !(call.data.status in STEP_OF));
  if (done.length) {
    holder.append(element("h3", `Appels faits (${done.length})`));
    const list = element("ul", null, { class: "list" });
    for (const call of done) list.append(element("li", `${call.data.name} — ${STATUS_LABELS[call.data.status]}`));
    holder.append(list);
  }
}

// On the home page: how many calls wait, and the way to them.
export async function showCallSummary(section) {
  const calls = await kept("calls");
  const waiting = calls.filter((call) => call.data.status in STEP_OF).length;
  section.hidden = calls.length === 0;
  if (!calls.length) return;
  const text = section.querySelector("[data-call-summary]");
  text.textContent = `${calls[0].data.plan_title} : ${waiting} appel${waiting > 1 ? "s" : ""} à passer sur ${calls.length}.`;
}
