// Settings page: a range input shows its value live in the <output> named by data-live-output.
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var input = event.target;
    var outputId = input.getAttribute && input.getAttribute("data-live-output");
    if (!outputId) return;
    var output = document.getElementById(outputId);
    if (output) output.value = input.value;
  });
})();
