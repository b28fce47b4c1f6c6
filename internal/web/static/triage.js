// DataQuarantine UI: the quarantine browser's record selection. Plain
// script, no framework; loaded on every page, it acts only where its
// elements are. It reads and sets checkboxes: it never writes markup.
(function () {
  "use strict";

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll("#quarantine-table input.pick"));
  }

  // update shows how many records are ticked, and keeps the page's
  // "tick all" box in step with them; ticking (picked) also chooses the
  // ticked records over "all that match".
  function update(picked) {
    var all = picks();
    var ticked = all.filter(function (c) { return c.checked; }).length;
    var count = document.getElementById("selected-count");
    if (count) {
      count.textContent = String(ticked);
    }
    var page = document.getElementById("select-page");
    if (page) {
      page.checked = all.length > 0 && ticked === all.length;
      page.indeterminate = ticked > 0 && ticked < all.length;
    }
    if (picked === true && ticked > 0) {
      var selected = document.getElementById("scope-selected");
      if (selected) {
        selected.checked = true;
      }
    }
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "select-page") {
      picks().forEach(function (c) { c.checked = t.checked; });
      update(true);
    } else if (t.classList && t.classList.contains("pick")) {
      update(true);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { update(false); });
  document.addEventListener("htmx:afterSettle", function () { update(false); });
})();
