// The payload editor: line numbers beside the text area, the lines of the
// last validation's violations marked on them, and a click on "line N"
// moving the caret there. Without it the editor is a plain text area.
(function () {
  "use strict";

  var area = document.getElementById("edit-payload");
  var gutter = document.getElementById("edit-gutter");
  if (!area || !gutter) {
    return;
  }
  var count = 0;
  var marked = {};

  function render() {
    var n = area.value.split("\n").length;
    if (n === count) return;
    count = n;
    var frag = document.createDocumentFragment();
    for (var i = 1; i <= n; i++) {
      var s = document.createElement("span");
      s.textContent = String(i);
      if (marked[i]) s.className = "err";
      frag.appendChild(s);
    }
    gutter.replaceChildren(frag);
    gutter.scrollTop = area.scrollTop;
  }

  // mark shows the lines of the violations in #edit-check.
  function mark() {
    marked = {};
    document.querySelectorAll("#edit-check [data-line]").forEach(function (li) {
      var n = parseInt(li.dataset.line, 10);
      if (n > 0) marked[n] = true;
    });
    Array.prototype.forEach.call(gutter.children, function (s, i) {
      s.className = marked[i + 1] ? "err" : "";
    });
  }

  function gotoLine(n) {
    var lines = area.value.split("\n");
    var start = 0;
    for (var i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[n - 1] || "").length;
    area.focus();
    area.setSelectionRange(start, end);
    var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 19;
    area.scrollTop = Math.max(0, (n - 4) * lineHeight);
  }

  gutter.hidden = false;
  area.classList.add("with-gutter");
  area.addEventListener("input", function () {
    // The text changed: the marks may no longer hold.
    if (Object.keys(marked).length) {
      marked = {};
      mark();
    }
    render();
  });
  area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
  document.addEventListener("click", function (evt) {
    var a = evt.target.closest && evt.target.closest("#edit-check a.goto");
    if (!a) return;
    evt.preventDefault();
    gotoLine(parseInt(a.dataset.line, 10));
  });
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    if (evt.target && evt.target.id === "edit-check") {
      mark();
    }
  });
  render();
  mark();
})();
