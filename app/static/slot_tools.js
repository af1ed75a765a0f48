// Slot page tools: upload progress of the test-run form (htmx does the rest).
(function () {
  "use strict";

  function parts(form) {
    return {
      bar: form.querySelector("[data-upload-bar]"),
      label: form.querySelector("[data-upload-label]"),
    };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-upload-progress]")) return;
    var p = parts(form);
    if (p.bar) { p.bar.hidden = false; p.bar.value = 0; }
    if (p.label && !p.label.dataset.uploading) p.label.dataset.uploading = p.label.textContent;
    if (p.label) p.label.textContent = p.label.dataset.uploading;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form || !event.detail.lengthComputable) return;
    var p = parts(form);
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    if (p.bar) p.bar.value = percent;
    if (percent >= 100) {
      // The photo is on the server; what is left is the provider's work.
      if (p.bar) p.bar.hidden = true;
      if (p.label) p.label.textContent = p.label.getAttribute("data-processing");
    }
  });
})();
