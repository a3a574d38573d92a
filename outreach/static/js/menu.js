// On a narrow screen (a phone) the main menu folds behind a "Menu" button, so that the page
// starts under a one-line header. Without this script the menu simply stays open.
const NARROW = "(max-width: 40rem)";

export function wireMenu() {
  const button = document.querySelector(".menu-toggle");
  const menu = document.getElementById("menu");
  if (!button || !menu) return;
  const narrow = window.matchMedia(NARROW);
  const show = (open) => {
    button.setAttribute("aria-expanded", String(open));
    menu.hidden = !open;
  };
  const fit = () => {
    button.hidden = !narrow.matches;
    show(!narrow.matches);
  };
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  // Escape folds it again, back on the button, as a menu does.
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && narrow.matches) {
      show(false);
      button.focus();
    }
  });
  narrow.addEventListener("change", fit);
  fit();
}
