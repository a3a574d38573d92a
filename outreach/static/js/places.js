// The team's lieux offered in every "Lieu" field: the pulled list, and those named on this
// tablet and still waiting to be sent (a lieu added in the car park is offered at the next stop).
import { referenceLists, waiting } from "./store.js";
import { element } from "./dom.js";

export async function offerPlaces(form) {
  const inputs = form.querySelectorAll("input[data-place]");
  if (!inputs.length) return;
  const pulled = (await referenceLists()).lieux || [];
  const named = (await waiting()).filter((record) => record.form === "maraude.lieu")
    .map((record) => record.data.nom);
  const names = [...new Set([...pulled.map((entry) => entry.label), ...named])]
    .sort((a, b) => a.localeCompare(b, "fr"));
  for (const input of inputs) {
    const id = `${input.id}-lieux`;
    const list = document.getElementById(id) || element("datalist", null, { id });
    list.replaceChildren(...names.map((name) => element("option", null, { value: name })));
    input.after(list);
    input.setAttribute("list", id);
  }
}
