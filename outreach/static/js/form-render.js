// Draws a form's fields from its definition, as the server's templates do (fields.html): same
// ids, names, labels and help, so the checks and the tests find the same page. Used offline when
// the tablet holds a newer version of a form than the page it kept, or another version to correct.
import { element } from "./dom.js";

function mark(spec) {
  const span = element("span", "obligatoire", { class: "req", "aria-hidden": "true" });
  return spec.required ? [document.createTextNode(" "), span] : [];
}

function notes(spec) {
  return spec.help ? [element("p", spec.help, { class: "help", id: `aide-${spec.key}` })] : [];
}

function described(spec) {
  return {
    "aria-describedby": spec.help ? `aide-${spec.key}` : null,
    required: spec.required ? "" : null,
    "aria-required": spec.required ? "true" : null,
  };
}

function labelled(spec, ...inputs) {
  const holder = element("div", null, { class: "field" });
  holder.append(element("label", spec.label, { for: `f-${spec.key}` }), ...mark(spec), ...inputs,
                ...notes(spec));
  return holder;
}

const INPUT_TYPES = { date: "date", time: "time", datetime: "datetime-local", text: "text" };

function simple(spec) {
  const attributes = { id: `f-${spec.key}`, name: spec.key, ...described(spec) };
  if (spec.type === "textarea") {
    return labelled(spec, element("textarea", null, { ...attributes, rows: 3, maxlength: 5000 }));
  }
  if (spec.type === "integer" || spec.type === "counter") {
    // Starts empty, never at 0: an untouched 0 is how counts go wrong in the field.
    return labelled(spec, element("input", null, {
      ...attributes, type: "number", inputmode: "numeric", step: 1, min: spec.min, max: spec.max,
    }));
  }
  const extra = spec.type === "text" ? { maxlength: 500 } : {};
  return labelled(spec, element("input", null, { ...attributes, ...extra, type: INPUT_TYPES[spec.type] }));
}

function options(spec, labels, kind) {
  const set = element("fieldset", null, {
    class: "field choices", "aria-describedby": spec.help ? `aide-${spec.key}` : null,
  });
  set.append(element("legend", spec.label, {}), ...mark(spec));
  if (!labels.length) {
    set.append(element("p", "Aucun choix disponible : demandez à l'administrateur de compléter la liste.", { class: "help" }));
  }
  for (const { value, label } of labels) {
    const option = element("label", null, { class: "option" });
    option.append(element("input", null, { type: kind, name: spec.key, value }), element("span", label, {}));
    set.append(option);
  }
  set.append(...notes(spec));
  return set;
}

function person(spec) {
  const search = element("input", null, {
    type: "search", id: `f-${spec.key}-search`, class: "person-search",
    "aria-label": `Chercher une personne (${spec.label})`, placeholder: "Chercher…",
  });
  const select = element("select", null, {
    id: `f-${spec.key}`, name: spec.key, "data-person": "", ...described(spec),
  });
  select.append(new Option("— Choisir —", ""));
  const link = element("a", "Nouvelle personne", { href: "/saisie/personne", class: "new-person" });
  return labelled(spec, search, select, link);
}

function place(spec) {
  const name = element("input", null, {
    type: "text", id: `f-${spec.key}`, name: `${spec.key}.label`, maxlength: 200, ...described(spec),
    "data-place": "", autocomplete: "off",
  });
  const details = element("details");
  details.append(element("summary", "Coordonnées (seulement si utile)", {}));
  for (const [part, label] of [["lat", "Latitude"], ["lon", "Longitude"]]) {
    details.append(element("label", label, { for: `f-${spec.key}-${part}` }), element("input", null, {
      type: "text", inputmode: "decimal", id: `f-${spec.key}-${part}`, name: `${spec.key}.${part}`,
    }));
  }
  return labelled(spec, name, details);
}

// value → label of a choice field: its own choices, or the reference list it names.
export function choicesOf(spec, reference) {
  if (spec.choices) return spec.choices;
  return reference[spec.choices_from] || [];
}

export function renderFields(definition, reference) {
  const fragment = document.createDocumentFragment();
  for (const spec of definition.fields) {
    if (spec.type === "choice" || spec.type === "multi") {
      fragment.append(options(spec, choicesOf(spec, reference), spec.type === "choice" ? "radio" : "checkbox"));
    } else if (spec.type === "boolean") {
      fragment.append(options(spec, [{ value: "oui", label: "Oui" }, { value: "non", label: "Non" }], "radio"));
    } else if (spec.type === "person") {
      fragment.append(person(spec));
    } else if (spec.type === "place") {
      fragment.append(place(spec));
    } else {
      fragment.append(simple(spec));
    }
  }
  return fragment;
}

// Put a definition's fields in place of the page's, with its title and description.
export function drawForm(form, definition, reference) {
  form.querySelector(".form-fields").replaceChildren(renderFields(definition, reference));
  form.dataset.version = definition.version;
  document.querySelector("main h1").textContent = definition.title;
  const lead = document.querySelector("p.lead");
  if (lead) lead.textContent = definition.description || "";
}
