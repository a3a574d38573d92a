// The alert inbox asks every 30 seconds (and when it comes back on screen) whether new alerts
// arrived, and says so without reloading what the coordinateur is typing.
const POLL_MS = 30 * 1000;
const inbox = document.querySelector("[data-alert-inbox]");
const shown = new Set(JSON.parse(inbox?.dataset.shown || "[]"));
const region = document.getElementById("new-alerts");
let announced = 0;

// Write only when the count changes: the region is read aloud each time its content changes.
function announce(count) {
  if (count === announced) return;
  announced = count;
  if (!count) {
    region.replaceChildren();
    return;
  }
  const plural = count > 1 ? "s" : "";
  const notice = document.createElement("p");
  notice.className = "notice";
  const link = document.createElement("a");
  link.href = "/alertes";
  link.textContent = "Afficher";
  notice.append(`${count} nouvelle${plural} alerte${plural} — `, link);
  region.replaceChildren(notice);
}

async function check() {
  try {
    const answer = await fetch("/api/v1/alerts/summary", { credentials: "same-origin" });
    if (!answer.ok) return;
    const { ids } = await answer.json();
    announce(ids.filter((id) => !shown.has(id)).length);
  } catch (error) { /* offline for a moment: the next poll will tell */ }
}

if (inbox && region) {
  setInterval(check, POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
  window.outreachAlerts = { check };
}
