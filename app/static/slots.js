// Slot page: template drop zone with preview and client-side checks, and keeping typed provider
// settings when the provider fields are swapped. Everything else is htmx.
(function () {
  "use strict";

  var ALLOWED = ["image/jpeg", "image/png", "image/webp"];
  var CARRIED_ACROSS_PROVIDERS = ["settings.prompt", "settings.negative_prompt"];

  function uploadForm(element) {
    return element && element.closest ? element.closest("form.template-upload") : null;
  }

  function checkFile(form, file) {
    if (!file) return "";
    if (ALLOWED.indexOf(file.type) < 0) return form.dataset.wrongType;
    if (file.size > Number(form.dataset.maxBytes)) return form.dataset.tooBig;
    return "";
  }

  function showFile(form) {
    var input = form.querySelector("input[type=file]");
    var preview = form.querySelector(".dropzone-preview");
    var errorBox = form.querySelector(".client-error");
    var file = input.files && input.files[0];
    var problem = checkFile(form, file);
    errorBox.textContent = problem;
    errorBox.hidden = !problem;
    if (preview.src) URL.revokeObjectURL(preview.src);
    if (file && !problem) {
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    } else {
      preview.removeAttribute("src");
      preview.hidden = true;
    }
  }

  document.addEventListener("change", function (event) {
    var form = uploadForm(event.target);
    if (form && event.target.type === "file") showFile(form);
  });

  document.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (zone) zone.classList.remove("dragging");
  });

  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    var input = zone.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    showFile(uploadForm(zone));
  });

  document.addEventListener("htmx:confirm", function (event) {
    var form = uploadForm(event.target);
    if (!form || event.target !== form) return;
    var input = form.querySelector("input[type=file]");
    if (checkFile(form, input.files && input.files[0])) {
      event.preventDefault();
      showFile(form);
    }
  });

  // Provider fields: what was typed survives a method switch, and the prompt survives a provider
  // switch; everything else starts from the new provider's defaults.
  var typed = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "provider-fields") return;
    var fields = target.querySelector(".provider-fields");
    typed = { provider: fields ? fields.dataset.provider : "", values: {} };
    target.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (field) {
      if (field.type === "checkbox") typed.values[field.name] = field.checked;
      else typed.values[field.name] = field.value;
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!typed || !target || target.id !== "provider-fields") return;
    var fields = target.querySelector(".provider-fields");
    var sameProvider = fields && fields.dataset.provider === typed.provider;
    target.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (field) {
      if (!(field.name in typed.values) || field.name === "settings.method") return;
      if (!sameProvider && CARRIED_ACROSS_PROVIDERS.indexOf(field.name) < 0) return;
      var value = typed.values[field.name];
      if (field.type === "checkbox") field.checked = value;
      else if (value !== "") field.value = value;
    });
    typed = null;
  });
})();
