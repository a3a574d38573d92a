// Safari's storage rules (issue 20, DESIGN §9). Outside the home screen, WebKit erases what a
// site wrote (IndexedDB, caches, its service worker) after seven days of use without a visit:
// the records waiting on the tablet and its offline pages with them. An app added to the home
// screen keeps its own storage, and keeps it. Every browser on an iPad or an iPhone is WebKit.

// Only Apple's WebKit has navigator.standalone. iPadOS Safari says it is a Mac ("Macintosh" in
// its user agent): touch points tell the iPad, as no Mac has a touch screen. An iPhone, and an
// iPad asked for its mobile site, still name themselves.
function onApplesMobileWebKit() {
  const tablet = "standalone" in navigator && navigator.maxTouchPoints > 1;
  return tablet || /\b(iPad|iPhone|iPod)\b/.test(navigator.userAgent);
}

// Opened from the home screen: navigator.standalone in Safari, the display mode elsewhere.
function fromHomeScreen() {
  return navigator.standalone === true
    || Boolean(window.matchMedia?.("(display-mode: standalone)").matches);
}

// Whether this browser may erase the tablet's records after seven days without a visit.
export function mayEraseAfterSevenDays() {
  return onApplesMobileWebKit() && !fromHomeScreen();
}

// The home page's advice to add Outreach to the home screen, drawn hidden by the template.
export function adviseHomeScreen() {
  const advice = document.getElementById("ecran-accueil");
  if (advice) advice.hidden = !mayEraseAfterSevenDays();
}
