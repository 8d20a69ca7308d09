/* Resources pages: heat maps of presence vs demand and of protected time, and a scenario area's
   week (officers on duty vs demand). Data are embedded as JSON (#resources-data, #scenario-data);
   every figure is also in a table on the page. Served from the project's static files. */
(function () {
  "use strict";
  if (typeof Plotly === "undefined") { return; }
  var english = document.documentElement.lang === "en";
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var days = english ? ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] : ["mån", "tis", "ons", "tor", "fre", "lör", "sön"];
  var hours = []; for (var h = 0; h < 24; h++) { hours.push(h); }

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function heat(id, z, title, options) {
    var el = document.getElementById(id);
    if (!el || !z) { return; }
    var trace = Object.assign({ z: z, x: hours, y: days, type: "heatmap", hoverongaps: false,
      colorscale: "YlOrRd", reversescale: true, colorbar: { title: { text: title } } }, options || {});
    Plotly.react(el, [trace], {
      title: { text: title, font: { size: 13 } }, margin: { l: 40, r: 10, t: 30, b: 40 }, height: 260,
      xaxis: { title: { text: english ? "hour" : "timme" }, dtick: 2 }, yaxis: { autorange: "reversed" }
    }, config);
    el.dataset.drawn = "1";
  }

  var unit = read("resources-data");
  if (unit) {
    if (unit.week) {
      heat("week-presence", unit.week.presence, unit.labels.presence);
      if (unit.week.ratio) {
        /* Diverging around 1: red where presence falls short of demand, blue where it exceeds it. */
        heat("week-ratio", unit.week.ratio, unit.labels.ratio,
          { colorscale: "RdBu", reversescale: false, zmid: 1, zmin: 0, zmax: 2 });
      }
    }
    var p = unit.protected;
    var el = document.getElementById("protected-chart");
    if (p && el) {
      Plotly.react(el, [{ z: p.z, x: p.months, y: p.areas, type: "heatmap", hoverongaps: false, zmin: 50, zmax: 100,
        colorscale: [[0, "#b3261e"], [(p.threshold - 50) / 50, "#f6d6a8"], [1, "#2e7d32"]],
        colorbar: { title: { text: "%" } } }], {
        margin: { l: 180, r: 10, t: 10, b: 60 }, height: Math.max(260, 22 * p.areas.length + 80),
        yaxis: { autorange: "reversed", automargin: true }
      }, config);
      el.dataset.drawn = "1";
    }
  }

  var scenario = read("scenario-data");
  var planEl = document.getElementById("plan-chart");
  if (scenario && scenario.hours && planEl) {
    var x = []; for (var b = 0; b < 168; b++) { x.push(b); }
    var ticks = [], labels = [];
    for (var d = 0; d < 7; d++) { ticks.push(d * 24); labels.push(days[d]); }
    var traces = [{ x: x, y: scenario.hours, type: "bar", name: english ? "Officers on duty" : "Områdespoliser i tjänst",
      marker: { color: "#5b7083" } }];
    if (scenario.demand) {
      var total = scenario.hours.reduce(function (a, v) { return a + v; }, 0);
      traces.push({ x: x, y: scenario.demand.map(function (v) { return v * total; }), type: "scatter", mode: "lines",
        name: english ? "Demand (scaled)" : "Behov (skalat)", line: { color: "#c0392b" } });
    }
    Plotly.react(planEl, traces, {
      margin: { l: 40, r: 10, t: 10, b: 40 }, height: 280, legend: { orientation: "h" },
      xaxis: { tickvals: ticks, ticktext: labels }, yaxis: { rangemode: "tozero" }
    }, config);
    planEl.dataset.drawn = "1";
  }
})();
