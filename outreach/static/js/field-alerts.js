// "Mes alertes": what became of the alerts this person raised, as the last pull told.
import { kept } from "./store.js";

const when = (iso) => new Date(iso).toLocaleString("fr-FR",
  { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });

function describe(data) {
  if (data.status === "close") return `Close le ${when(data.closed_at)} : ${data.outcome || ""}`;
  if (data.status === "prise_en_charge") {
    return `Prise en charge par ${data.taken_by_name || "la coordination"} le ${when(data.taken_at)}`;
  }
  return "Nouvelle : pas encore prise en charge";
}

export async function showAlerts(section) {
  const alerts = (await kept("alerts"))
    .sort((a, b) => b.data.raised_at.localeCompare(a.data.raised_at));
  const list = section.querySelector("[data-alert-list]");
  list.replaceChildren();
  for (const { data } of alerts) {
    const item = document.createElement("li");
    item.className = `card alert-${data.status}`;
    const title = document.createElement("h3");
    title.textContent = `${data.kind_label} — ${when(data.raised_at)}`;
    const status = document.createElement("p");
    status.textContent = describe(data);
    item.append(title, status);
    list.append(item);
  }
  section.hidden = alerts.length === 0;
}
