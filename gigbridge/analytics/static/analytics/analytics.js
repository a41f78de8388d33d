/* Draws each dashboard chart with Chart.js from the JSON block beside its canvas
   (<script type="application/json"> written by Django's json_script: the CSP allows no inline
   script). The data table next to each chart carries the same numbers for screen readers. */
(function () {
  "use strict";
  var PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    var type = data.type === "line" || data.type === "doughnut" ? data.type : "bar";
    var datasets = data.datasets.map(function (set, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: type === "doughnut" ? data.labels.map(function (_, j) {
          return PALETTE[j % PALETTE.length];
        }) : colour,
        borderColor: colour,
        spanGaps: true
      };
    });
    if (type === "doughnut") { datasets = datasets.slice(0, 1); }
    new window.Chart(canvas, {
      type: type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 || type === "doughnut" } },
        scales: type === "doughnut" ? {} : { y: { beginAtZero: true } }
      }
    });
  }

  function start() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    // Choosing a preset period empties the dates; typing a date switches to custom dates.
    var period = document.getElementById("f-period");
    var start = document.getElementById("f-start");
    var end = document.getElementById("f-end");
    if (period && start && end) {
      [start, end].forEach(function (input) {
        input.addEventListener("change", function () { period.value = "custom"; });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
