// "Rencontre rapide": an anonymous encounter in the cold, saved in two taps — how many people,
// then what was handed out. The place stays from one encounter to the next.
import { check } from "./record-form.js";
import { currentUser, lastPlace, queue, rememberPlace } from "./store.js";
import { newId, sync } from "./sync.js";
import { refreshStatus } from "./status.js";

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
  place.value = lastPlace() || form.dataset.secteur || "";
  let count = 1;
  const countButtons = form.querySelectorAll("[data-count]");
  for (const button of countButtons) {
    button.addEventListener("click", () => {
      count = Number(button.dataset.count);
      countButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    });
  }
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const button of form.querySelectorAll("[data-prestation]")) {
    button.addEventListener("click", async () => {
      const label = place.value.trim();
      const data = { niveau: "anonyme", nombre_personnes: count, prestations: [button.dataset.value] };
      if (label) data.lieu = { label, lat: null, lon: null };
      const errors = check(definition, data);
      if (Object.keys(errors).length) {
        say(errors.lieu ? "Indiquez le lieu, puis touchez à nouveau ce qui a été remis."
          : Object.values(errors).flat().join(" "), true);
        place.focus();
        return;
      }
      await queue({
        id: newId(), form: definition.key, form_version: definition.version, title: definition.title,
        recorded_at: new Date().toISOString(), recorded_by: currentUser(), parent_id: parent,
        base_revision: null, data,
      });
      rememberPlace(label);
      const people = `${count} personne${count > 1 ? "s" : ""}`;
      say(`Fiche enregistrée : ${people}, ${button.textContent.trim().toLowerCase()}.`, false);
      count = 1;
      countButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.count === "1")));
      await refreshStatus();
      sync();
    });
  }
}
