/* Unit page: the summed monthly series of the unit's areas with the fitted trend. */
(function () {
  "use strict";
  var holder = document.getElementById("picture-data");
  var el = document.getElementById("trend-chart");
  if (!holder || !el || typeof Plotly === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var english = document.documentElement.lang === "en";
  var code = el.dataset.indicator || "all";
  var s = data.series[code] || { months: [], counts: [] };
  var t = data.trends[code] || {};
  var traces = [{ x: s.months, y: s.counts, type: "bar", name: english ? "Count" : "Antal", marker: { color: "#5b7083" } }];
  if (t.fitted && t.fitted.length === s.months.length) {
    traces.push({ x: s.months, y: t.fitted, type: "scatter", mode: "lines", name: "Trend", line: { color: "#c0392b", width: 2 } });
  }
  Plotly.react(el, traces, { margin: { l: 40, r: 10, t: 10, b: 40 }, height: 300, legend: { orientation: "h" },
    yaxis: { rangemode: "tozero" } }, { displaylogo: false, responsive: true });
  el.dataset.drawn = code;
})();
