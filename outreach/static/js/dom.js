// Small helpers the pages share to draw what the tablet keeps: an element, a person's name, a day.

// An element with its text and attributes; an attribute null, undefined or false is left out.
export function element(tag, text = null, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== null && text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  return node;
}

// A person as the field knows them: alias or first name, then surname.
export const personName = (data) => [data?.alias_prenom, data?.nom].filter(Boolean).join(" ") || "?";

// "mardi 24 novembre" for a day written YYYY-MM-DD (read at noon: no time zone shifts it).
export const longDay = (day) => new Date(`${day}T12:00:00`).toLocaleDateString("fr-FR", {
  weekday: "long", day: "numeric", month: "long",
});

// "26/11/2026" for a day written YYYY-MM-DD (or a moment that starts with one): never the raw form.
export const frenchDate = (day) => (day ? day.slice(0, 10).split("-").reverse().join("/") : "");

// A phone number that calls when touched, read out with what it is for.
export function phoneLink(number, label) {
  const link = element("a", number, { href: `tel:${number.replace(/[^\d+]/g, "")}` });
  link.setAttribute("aria-label", `${label} : ${number}`);
  return link;
}
