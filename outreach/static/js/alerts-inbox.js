// The alert inbox asks every 30 seconds (and when it comes back on screen) whether new alerts
// arrived, and says so without reloading what the coordinateur is typing.
const POLL_MS = 30 * 1000;
const inbox = document.querySelector("[data-alert-inbox]");
const shown = new Set(JSON.parse(inbox?.dataset.shown || "[]"));
const notice = document.getElementById("new-alerts");

async function check() {
  try {
    const answer = await fetch("/api/v1/alerts/summary", { credentials: "same-origin" });
    if (!answer.ok) return;
    const { ids } = await answer.json();
    const fresh = ids.filter((id) => !shown.has(id));
    if (!fresh.length) return;
    notice.replaceChildren(`${fresh.length} nouvelle${fresh.length > 1 ? "s" : ""} alerte${fresh.length > 1 ? "s" : ""} — `);
    const link = document.createElement("a");
    link.href = "/alertes";
    link.textContent = "Afficher";
    notice.append(link);
    notice.hidden = false;
  } catch (error) { /* offline for a moment: the next poll will tell */ }
}

if (inbox) {
  setInterval(check, POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
  window.outreachAlerts = { check };
}
