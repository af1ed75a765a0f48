// Draws the stats page's charts from the JSON the server rendered next to each canvas
// (<canvas data-chart="ID-of-the-json">), on load and again after every htmx swap.
(function () {
  "use strict";

  var COLOURS = {
    done: "#2e9d4a",
    failed: "#d64545",
    timeout: "#e89a2c",
    interrupted: "#8e5bc8",
    pending: "#9aa5b1",
    p95: "#3b7dd8"
  };

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var stacked = canvas.getAttribute("data-stacked") === "true";
    data.datasets.forEach(function (dataset) {
      dataset.backgroundColor = COLOURS[dataset.key] || "#888";
    });
    var previous = Chart.getChart(canvas);
    if (previous) previous.destroy();
    new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 200 },
        plugins: { legend: { display: stacked, position: "bottom" } },
        scales: {
          x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: stacked ? 0 : undefined } }
        }
      }
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
