// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // wide screens show the filters open (browsers without ::details-content would keep them folded)
  const box = document.getElementById("filter-box");
  if (box && window.matchMedia("(min-width: 701px)").matches) box.open = true;
  // filters apply as soon as a select changes (one less tap on a phone)
  const filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select").forEach((el) => el.addEventListener("change", () => filters.requestSubmit()));
  }
  // a double click must not send an action twice (the second would be a version conflict)
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", () => {
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
    });
  });
});
