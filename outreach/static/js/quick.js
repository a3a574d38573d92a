// "Rencontre rapide": an anonymous encounter in the cold — how many people, everything handed out,
// then one "Enregistrer": one record for the group. "Annuler" takes it back for a few seconds
// (undo.js). The place stays from one encounter to the next of the tournée.
import { check, showSaved } from "./record-form.js";
import { currentUser, lastPlace, rememberPlace } from "./store.js";
import { newId } from "./sync.js";
import { saveWithUndo } from "./undo.js";

function say(text, isError) {
  const feedback = document.getElementById("form-feedback");
  feedback.className = isError ? "error-summary" : "flash";
  feedback.textContent = text;
  return feedback;
}

export function wireQuickForm(form) {
  const definition = JSON.parse(document.getElementById("form-definition").textContent);
  // The page may come from the offline cache, kept for another tournée: the address tells.
  const parent = new URLSearchParams(location.search).get("parent") || form.dataset.parent || null;
  if (parent) form.querySelector("[data-full-form]").href = `/saisie/${definition.key}?parent=${parent}`;
  const place = form.elements["lieu.label"];
  // The secteur the server wrote is that of the tournée the page was drawn for.
  const secteur = parent && parent === form.dataset.parent ? form.dataset.secteur : "";
  lastPlace(parent).then((label) => { place.value = label || secteur || ""; });
  const countButtons = [...form.querySelectorAll("[data-count]")];
  const givenButtons = [...form.querySelectorAll("[data-prestation]")];
  const pressed = (button) => button.getAttribute("aria-pressed") === "true";
  const choose = (count, given) => {
    countButtons.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.count) === count)));
    givenButtons.forEach((b) => b.setAttribute("aria-pressed", String(given.includes(b.dataset.value))));
  };
  for (const button of countButtons) {
    button.addEventListener("click", () => {
      countButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    });
  }
  for (const button of givenButtons) {
    button.addEventListener("click", () => button.setAttribute("aria-pressed", String(!pressed(button))));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const count = Number(countButtons.find(pressed)?.dataset.count || 1);
    const chosen = givenButtons.filter(pressed);
    const given = chosen.map((b) => b.dataset.value);
    const label = place.value.trim();
    const data = { niveau: "anonyme", nombre_personnes: count, prestations: given };
    if (label) data.lieu = { label, lat: null, lon: null };
    const errors = check(definition, data);
    if (Object.keys(errors).length) {
      say(errors.lieu ? "Indiquez le lieu, puis « Enregistrer »."
        : Object.values(errors).flat().join(" "), true);
      place.focus();
      return;
    }
    if (!given.length) {
      say("Touchez ce qui a été remis (« Écoute » si rien d'autre), puis « Enregistrer ».", true).focus();
      return;
    }
    const record = {
      id: newId(), form: definition.key, form_version: definition.version, title: definition.title,
      recorded_at: new Date().toISOString(), recorded_by: currentUser(), parent_id: parent,
      base_revision: null, data,
    };
    await rememberPlace(label, parent);
    const people = `${count} personne${count > 1 ? "s" : ""}`;
    const names = chosen.map((b) => b.textContent.trim().toLowerCase()).join(", ");
    const feedback = say(`Fiche enregistrée : ${people}, ${names}.`, false);
    choose(1, []);  // the next group starts afresh
    await saveWithUndo(record, feedback, {
      undone: "Rencontre annulée : rien n'est envoyé. Corrigez, puis « Enregistrer ».",
      onUndo: () => choose(count, given),
    });
    showSaved(feedback);
  });
}
