/* An evaluation's charts: the area against its comparison per month, and the placebo ratios.
   The figures are also in the page's tables. Plotly is served from the project's static files. */
(function () {
  "use strict";
  var holder = document.getElementById("evaluation-data");
  if (!holder || typeof Plotly === "undefined") { return; }
  var d = JSON.parse(holder.textContent);
  var english = document.documentElement.lang === "en";
  var config = { displaylogo: false, responsive: true };
  var el = document.getElementById("evaluation-chart");
  if (el && d.treated) {
    Plotly.react(el, [
      { x: d.months, y: d.treated, type: "scatter", mode: "lines", name: english ? "Area" : "Området", line: { color: "#0b2e4f" } },
      { x: d.months, y: d.counterfactual, type: "scatter", mode: "lines", name: english ? "Comparison" : "Jämförelsen",
        line: { color: "#c0392b", dash: "dash" } }
    ], {
      margin: { l: 40, r: 10, t: 10, b: 40 }, height: 300, legend: { orientation: "h" },
      shapes: [{ type: "line", x0: d.start_month, x1: d.start_month, yref: "paper", y0: 0, y1: 1, line: { color: "#555", dash: "dot" } }]
    }, config);
    el.dataset.drawn = "1";
  }
  var pl = document.getElementById("placebo-chart");
  if (pl && d.placebo && d.placebo.length) {
    var ratios = d.placebo.map(function (p) { return p.ratio; });
    Plotly.react(pl, [{ x: ratios, type: "histogram", nbinsx: 20, marker: { color: "#8899aa" }, name: english ? "Placebos" : "Placebo" }], {
      margin: { l: 40, r: 10, t: 10, b: 40 }, height: 240, xaxis: { title: { text: english ? "post/pre RMSPE" : "RMSPE efter/före" } }
    }, config);
    pl.dataset.drawn = "1";
  }
})();
