// Small behaviours of the admin pages; everything else is server-rendered HTML and htmx.
(function () {
  "use strict";

  // <button data-copy="text"> copies its text; falls back to a selection on plain-HTTP hosts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var field = document.createElement("textarea");
    field.value = text;
    document.body.appendChild(field);
    field.select();
    document.execCommand("copy");
    field.remove();
    done();
  });

  // Forms marked data-guard-unsaved warn before the page is left with unsaved typing.
  var dirty = new Set();
  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-guard-unsaved]");
    if (form) dirty.add(form);
  });
  document.addEventListener("submit", function (event) { dirty.delete(event.target); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form");
    if (form && event.detail.xhr.status < 400) dirty.delete(form);
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });
})();
