// A printed page's "Imprimer" button (a module: the Content-Security-Policy refuses onclick="").
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
