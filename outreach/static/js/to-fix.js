// "À corriger" on the tablet: the records the server refused at the last sync, fixable offline.
import { toFix } from "./store.js";

const describe = (errors) => Object.entries(errors || {})
  .map(([key, messages]) => `${key.replaceAll("_", " ")} : ${messages.join(" ")}`);

export async function listToFix() {
  const section = document.getElementById("sur-la-tablette");
  const list = section.querySelector("ul");
  const records = await toFix();
  list.replaceChildren();
  for (const record of records) {
    // The server lists the same refusal; here is where it can be fixed, so show it once.
    document.querySelector(`[data-record-id="${record.id}"]`)?.remove();
    const card = document.createElement("li");
    card.className = "card";
    const title = document.createElement("h3");
    title.textContent = record.title || record.form;
    card.append(title);
    const reasons = document.createElement("ul");
    for (const line of describe(record.errors)) {
      const item = document.createElement("li");
      item.className = "error";
      item.textContent = line;
      reasons.append(item);
    }
    card.append(reasons);
    if (record.status === "rejected") {
      const fix = document.createElement("a");
      fix.className = "button";
      fix.href = `/saisie/${record.form}?corriger=${record.id}`;
      fix.textContent = "Corriger";
      card.append(fix);
    } else {
      const wait = document.createElement("p");
      wait.textContent = "Une version plus récente existe : un coordinateur décidera.";
      card.append(wait);
    }
    list.append(card);
  }
  section.hidden = records.length === 0;
}
