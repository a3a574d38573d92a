// The plan board fills as the tablets sync: it asks the server for its figures every few
// seconds and swaps them in, unless the coordinateur is typing in it (a need's follow-up).
// A change of the counts is read aloud once, not every refresh.
const board = document.querySelector("[data-plan-board]");
const spoken = document.getElementById("plan-announce");

function busy() {
  const active = document.activeElement;
  return board.contains(active) && ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName);
}

export async function refreshBoard() {
  if (busy()) return false;
  try {
    const answer = await fetch(board.dataset.planBoard, { credentials: "same-origin" });
    // A session that ended answers with the login page: keep the figures shown, not that page.
    if (!answer.ok || answer.redirected || busy()) return false;
    const before = board.querySelector("[data-summary]")?.textContent;
    board.innerHTML = await answer.text();
    const after = board.querySelector("[data-summary]")?.textContent;
    if (spoken && after && after !== before) spoken.textContent = `Tableau mis à jour : ${after}.`;
    return true;
  } catch (error) {
    return false;  // offline for a moment: the next round will tell
  }
}

if (board) {
  const every = Number(board.dataset.refreshMs) || 10000;
  setInterval(refreshBoard, every);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshBoard();
  });
  window.outreachBoard = { refresh: refreshBoard };
}
