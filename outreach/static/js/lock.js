// The lock screens (DESIGN §7), drawn only when needed (no page carries them): "Choisissez votre code" at a person's first login on a tablet,
// "Saisissez votre code" whenever the app is locked (reopened, or left idle). While a screen
// shows, only the status area stays (waiting records are counted, never shown): the page behind
// is hidden, and its data cannot be read, since the key is not open.
import { atLogin, choosePin, idleMs, isOpen, lock, lockAfterMs, mayChoosePin, protectedTablet, ring,
  touch, unlockWithPassword, unlockWithPin } from "./crypto.js";
import { serverLogin } from "./login.js";
import { element } from "./dom.js";

const CHECK_EVERY_MS = 1000;

// A field with its label, and a place for what went wrong; codes are typed as digits.
function field(id, label, attributes) {
  const box = element("div", null, { class: "field" });
  box.append(element("label", label, { for: id }),
             element("input", null, { id, required: "", autocomplete: "off", ...attributes }));
  return box;
}

function screenForm(name, fields, button, hidden = false) {
  const form = element("form", null, { novalidate: "", [name]: "", hidden });
  form.append(...fields, element("p", null, { class: "error", role: "alert", "data-feedback": "", hidden: "" }),
              element("button", button, { type: "submit" }));
  return form;
}

const codeAttributes = (name) => ({ name, type: "password", inputmode: "numeric", maxlength: "6" });

function section(id, title, ...content) {
  const screen = element("section", null, { class: "card narrow lock-screen", "aria-labelledby": id });
  screen.append(element("h1", title, { id }), ...content);
  return screen;
}

function chooseCodeScreen() {
  return section("choose-code-title", "Choisissez votre code",
    element("p", "Ce code ouvre vos données sur cette tablette, même sans réseau. 4 à 6 chiffres."),
    screenForm("data-choose-code", [field("code-new", "Code", codeAttributes("code")),
                                    field("code-again", "Confirmer le code", codeAttributes("again"))],
               "Enregistrer le code"));
}

function lockScreenView() {
  const choices = element("p", null, { class: "lock-choices" });
  choices.append(
    element("button", "Se connecter avec le mot de passe", { type: "button", class: "secondary",
                                                             "data-use-password": "" }),
    element("a", "Changer de personne", { class: "button secondary", href: "/connexion?changer=1",
                                          "data-change-person": "" }));
  return section("lock-title", "Saisissez votre code", element("p", null, { "data-person": "" }),
    screenForm("data-unlock", [field("code-unlock", "Code", codeAttributes("code"))], "Déverrouiller"),
    screenForm("data-unlock-password", [field("password-unlock", "Mot de passe", {
      name: "password", type: "password", autocomplete: "current-password" })], "Se connecter", true),
    choices);
}

// Cover the page with a screen; answers the screen and how to take it away.
function cover(draw) {
  const screen = draw();
  const hidden = [...document.body.children].filter((child) => !child.hidden
    && child.tagName !== "SCRIPT" && !child.classList.contains("sync"));
  for (const child of hidden) child.hidden = true;
  const holder = document.createElement("main");
  holder.className = "locked";
  holder.append(screen);
  document.body.append(holder);
  screen.querySelector("input")?.focus();
  return { screen, remove() { holder.remove(); for (const child of hidden) child.hidden = false; } };
}

function say(form, message) {
  const feedback = form.querySelector("[data-feedback]");
  feedback.textContent = message;
  feedback.hidden = !message;
}

// Resolves once the person chose their code (4 to 6 digits, typed twice).
export function chooseCode(user) {
  const { screen, remove } = cover(chooseCodeScreen);
  const form = screen.querySelector("form");
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = form.code.value;
      if (!/^[0-9]{4,6}$/.test(code)) return say(form, "Le code a 4 à 6 chiffres.");
      if (code !== form.again.value) return say(form, "Les deux codes ne sont pas les mêmes.");
      form.querySelector("button").disabled = true;
      await choosePin(user, code);
      remove();
      resolve();
    });
  });
}

// Resolves once this person is unlocked (at once when they are, or the code is turned off).
export async function unlocked(user) {
  if (!protectedTablet() || (await isOpen(user))) return;
  const held = await ring(user);
  if (!held) {
    // No key of theirs here (erased, or a session from before): their password makes one.
    location.replace(`/connexion?changer=1&suivant=${encodeURIComponent(location.pathname + location.search)}`);
    return new Promise(() => {});
  }
  await lockScreen(user, held);
  if (mayChoosePin(user)) await chooseCode(user);
}

function lockScreen(user, held) {
  const { screen, remove } = cover(lockScreenView);
  screen.querySelector("[data-person]").textContent = held.name;
  const byCode = screen.querySelector("form[data-unlock]");
  const byPassword = screen.querySelector("form[data-unlock-password]");
  const usePassword = () => {
    byCode.hidden = true;
    byPassword.hidden = false;
    screen.querySelector("[data-use-password]").hidden = true;
    byPassword.password.focus();
  };
  if (!held.pin) {
    usePassword();
    say(byPassword, "Pas de code sur cette tablette : connectez-vous avec le mot de passe.");
  }
  screen.querySelector("[data-use-password]").addEventListener("click", usePassword);
  screen.querySelector("[data-change-person]").addEventListener("click", () => lock(user));
  return new Promise((resolve) => {
    byCode.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tried = await unlockWithPin(user, byCode.code.value);
      byCode.code.value = "";
      if (tried.open) { remove(); resolve(); return; }
      if (tried.erased) {
        usePassword();
        say(byPassword, "Code effacé après 5 essais : connectez-vous avec le mot de passe. Vos fiches sont gardées.");
        return;
      }
      say(byCode, `Code incorrect. Encore ${tried.left} essai${tried.left > 1 ? "s" : ""}.`);
    });
    byPassword.addEventListener("submit", async (event) => {
      event.preventDefault();
      const password = byPassword.password.value;
      if (await unlockWithPassword(user, password) || await online(user, held, password, byPassword)) {
        remove();
        resolve();
        return;
      }
      if (byPassword.querySelector("[data-feedback]").hidden) say(byPassword, "Mot de passe incorrect.");
    });
  });
}

// A password that no copy here opens (changed since, or the code locked out) still logs in
// with the network: the escrow brings the data key back, the outbox intact.
async function online(user, held, password, form) {
  if (!navigator.onLine) {
    say(form, "Mot de passe incorrect, ou changé depuis : il faut le réseau pour le vérifier.");
    return false;
  }
  try {
    const answer = await serverLogin(held.login, password);
    if (!answer.ok || String(answer.body.user.id) !== String(user)) return false;
    await atLogin(user, { login: held.login, name: held.name, password, escrow: answer.body.tablet_key });
    return true;
  } catch (error) {
    say(form, "Pas de réseau : le mot de passe ne peut pas être vérifié.");
    return false;
  }
}

// Lock after the setting's minutes without a tap or a key; the page stays as it was, under the
// lock screen, and comes back once unlocked.
export function lockWhenIdle(user) {
  if (!protectedTablet()) return;
  for (const kind of ["pointerdown", "keydown", "input"]) {
    document.addEventListener(kind, () => touch(user), { passive: true, capture: true });
  }
  let locking = false;
  setInterval(async () => {
    if (locking || idleMs() < lockAfterMs()) return;
    locking = true;
    await lock(user);
    await unlocked(user);
    locking = false;
    window.dispatchEvent(new CustomEvent("outreach:unlocked"));
  }, Math.min(CHECK_EVERY_MS, lockAfterMs() / 4));
}
