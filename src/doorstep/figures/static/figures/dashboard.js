// Draws the dashboard's charts from the JSON the page carries (Chart.js served locally).
// Every chart has a table next to it with the same numbers, for screen readers and print.
(function () {
  "use strict";
  var source = document.getElementById("figures-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function draw(id, series, type, label) {
    var canvas = document.getElementById(id);
    if (!canvas || !series) return;
    new Chart(canvas, {
      type: type,
      data: {
        labels: series.labels,
        datasets: [{ label: label, data: series.values, backgroundColor: "#1f5fae", borderColor: "#1f5fae" }]
      },
      options: {
        animation: reduce ? false : undefined,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  draw("chart-day", data.day, "line", data.label);
  draw("chart-hour", data.hour, "bar", data.label);
  draw("chart-weekday", data.weekday, "bar", data.label);
  draw("chart-group", data.group, "bar", data.label);
  draw("chart-service", data.service, "bar", data.service_label);
})();
