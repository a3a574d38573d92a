// Logging in on a tablet (DESIGN §9): in JSON, so that the answer brings this person's escrow key
// for this tablet; then their data key is recovered or made, wrapped by the password, and at the
// first login here the code is chosen. With no network, the password opens what this tablet keeps
// of the last person whose pages it keeps.
import { atLogin, findByLogin, protectedTablet, unlockWithPassword } from "./crypto.js";
import { eraseTablet } from "./lost.js";
import { chooseCode } from "./lock.js";
import { deviceId } from "./sync.js";

export async function serverLogin(login, password) {
  const answer = await fetch("/api/v1/session", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Outreach-Device": deviceId() },
    body: JSON.stringify({ login, password }),
  });
  return { ok: answer.ok, status: answer.status, body: await answer.json().catch(() => ({})) };
}

export function wireLogin(form) {
  const feedback = document.getElementById("login-feedback");
  const say = (message) => { feedback.textContent = message; feedback.hidden = !message; };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const login = form.login.value.trim();
    const password = form.password.value;
    if (!login || !password) return say("Saisissez votre identifiant et votre mot de passe.");
    button.disabled = true;
    say("");
    try {
      const opened = await logIn(login, password, say);
      if (opened) location.assign(form.dataset.next || "/");
    } finally {
      button.disabled = false;
    }
  });
}

async function logIn(login, password, say) {
  let answer;
  try {
    answer = await serverLogin(login, password);
  } catch (error) {
    return offline(login, password, say);
  }
  if (answer.status === 403 && answer.body.code === "tablette_perdue") {
    await eraseTablet();
    return false;
  }
  if (!answer.ok) {
    say(answer.body.error || "Connexion refusée.");
    return false;
  }
  const { user } = answer.body;
  if (!protectedTablet()) return true;
  let mustChoose;
  try {
    mustChoose = await atLogin(user.id, { login, name: user.name, password,
                                          escrow: answer.body.tablet_key });
  } catch (error) {
    // Records sealed under a key no copy opens any more: said, and nothing is erased.
    say(error.message);
    return false;
  }
  if (mustChoose) await chooseCode(user.id);
  return true;
}

async function offline(login, password, say) {
  const held = await findByLogin(login);
  // The pages kept offline are one person's: the last one logged in with the network.
  if (!held || localStorage.getItem("outreach-last-user") !== held.user) {
    say("Pas de réseau : la première connexion sur cette tablette demande le réseau.");
    return false;
  }
  if (!(await unlockWithPassword(held.user, password))) {
    say("Mot de passe incorrect (sans réseau, c'est celui de votre dernière connexion ici).");
    return false;
  }
  return true;
}
