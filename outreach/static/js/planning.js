// The office's planning (/planning): each visiteur's weeks scroll inside their own area, the
// senior's name and "Changer" staying in view; this week is brought first into view.
function showThisWeek(area) {
  const week = area.querySelector("thead th.this-week");
  const name = area.querySelector("thead th");
  if (!week || !name) return;
  area.scrollLeft = week.offsetLeft - name.offsetWidth;
}

const areas = [...document.querySelectorAll("[data-weeks]")];
for (const area of areas) showThisWeek(area);
