/* Competence pages: the training-needs heat map (units × competences, how many lack the level).
   The figures are embedded as JSON (#needs-data) and are all in the table on the page. */
(function () {
  "use strict";
  if (typeof Plotly === "undefined") { return; }
  var el = document.getElementById("needs-chart");
  var data = document.getElementById("needs-data");
  if (!el || !data) { return; }
  var d = JSON.parse(data.textContent);
  if (!d.units.length) { return; }
  Plotly.react(el, [{ z: d.z, x: d.competences, y: d.units, type: "heatmap", colorscale: "YlOrRd",
    reversescale: true, hoverongaps: false, colorbar: { title: { text: d.label } } }], {
    margin: { l: 200, r: 10, t: 10, b: 140 }, height: Math.max(300, 26 * d.units.length + 180),
    yaxis: { autorange: "reversed", automargin: true }, xaxis: { automargin: true }
  }, { displaylogo: false, responsive: true });
  el.dataset.drawn = "1";
}());
