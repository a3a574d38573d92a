// "Annuler" for a few seconds after a save on the field (DESIGN §9, "Undo on the field"): while
// the button shows, the record stays on the tablet, held, and no sync sends it; when it goes, the
// hold ends and a sync sends the record. One "Annuler" at a time: a new save sends the one before.
import { element } from "./dom.js";
import { queueHeld, release, unqueue } from "./store.js";
import { sync } from "./sync.js";
import { refreshStatus } from "./status.js";

export const UNDO_MS = 8000;
// The hold outlasts the button a little: a sync at the very moment the button goes must not send
// a record the person can still take back. The end of the button releases it at once.
const MARGIN_MS = 3000;

let offered = null;

function bar(feedback) {
  // Focus goes back to the confirmation when the button goes: it must take it.
  if (!feedback.hasAttribute("tabindex")) feedback.tabIndex = -1;
  let holder = document.getElementById("undo-bar");
  if (!holder) {
    holder = element("p", null, { id: "undo-bar", class: "undo-bar" });
    holder.append(element("button", "Annuler", { type: "button", class: "big secondary",
      "aria-describedby": feedback.id || null }));
    holder.hidden = true;
  }
  feedback.after(holder);
  return holder;
}

// The record goes: the button leaves, the hold ends, a sync sends it.
async function letGo(offer) {
  clearTimeout(offer.timer);
  if (offered === offer) offered = null;
  const hadFocus = offer.holder.contains(document.activeElement);
  if (!offered) offer.holder.hidden = true;
  if (hadFocus) offer.feedback.focus({ preventScroll: true });
  await release(offer.record.id, offer.until);
  sync();
}

// Send at once whatever "Annuler" still holds (a new save, a page that redraws).
export async function letGoNow() {
  if (offered) await letGo(offered);
}

// Save `record` held, and offer "Annuler" beside `feedback` (the confirmation already said).
// `onUndo(previous)` redraws the page as it was; `undone` is what the confirmation says then.
export async function saveWithUndo(record, feedback, { onUndo = () => {}, undone = "Annulé : rien n'est envoyé." } = {}) {
  await letGoNow();
  const until = Date.now() + UNDO_MS + MARGIN_MS;
  const previous = await queueHeld(record, until);
  const holder = bar(feedback);
  const offer = { record, until, previous, holder, feedback, timer: null };
  offered = offer;
  const button = holder.querySelector("button");
  button.onclick = async () => {
    if (offered !== offer) return;
    clearTimeout(offer.timer);
    offered = null;
    holder.hidden = true;
    const taken = await unqueue(record.id, until, previous);
    feedback.textContent = taken ? undone : "Trop tard : la fiche est déjà partie.";
    feedback.focus({ preventScroll: true });
    if (taken) await onUndo(previous);
    await refreshStatus();
  };
  holder.hidden = false;
  offer.timer = setTimeout(() => letGo(offer), UNDO_MS);
  await refreshStatus();
  return offer;
}
