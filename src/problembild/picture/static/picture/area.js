/* Area page: trend chart, hour-of-week heat map (Plotly) and hot-spot / forecast layers (Leaflet).
   Data come from the cached problem picture embedded as JSON (#picture-data) and from the API. */
(function () {
  "use strict";
  var holder = document.getElementById("picture-data");
  var data = holder ? JSON.parse(holder.textContent) : null;
  var english = document.documentElement.lang === "en";
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var days = english ? ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] : ["mån", "tis", "ons", "tor", "fre", "lör", "sön"];

  function drawTrend(code) {
    var el = document.getElementById("trend-chart");
    if (!el || !data || typeof Plotly === "undefined") { return; }
    var s = data.series[code] || { months: [], counts: [] };
    var t = data.trends[code] || {};
    var traces = [{ x: s.months, y: s.counts, type: "bar", name: english ? "Count" : "Antal", marker: { color: "#5b7083" } }];
    if (t.fitted && t.fitted.length === s.months.length) {
      traces.push({ x: s.months, y: t.fitted, type: "scatter", mode: "lines", name: english ? "Trend" : "Trend",
        line: { color: "#c0392b", width: 2 } });
    }
    if (t.seasonal && t.seasonal.length === s.months.length) {
      traces.push({ x: s.months, y: t.seasonal, type: "scatter", mode: "lines", name: english ? "Trend + season" : "Trend + säsong",
        line: { color: "#e67e22", width: 1, dash: "dot" } });
    }
    Plotly.react(el, traces, {
      margin: { l: 40, r: 10, t: 10, b: 40 }, height: 300, legend: { orientation: "h" },
      yaxis: { title: { text: english ? "per month" : "per månad" }, rangemode: "tozero" }
    }, config);
    el.dataset.drawn = code;
  }

  function drawHours(code) {
    var el = document.getElementById("how-chart");
    if (!el || !data || typeof Plotly === "undefined") { return; }
    var z = data.hour_of_week[code] || [];
    var hours = []; for (var h = 0; h < 24; h++) { hours.push(h); }
    Plotly.react(el, [{ z: z, x: hours, y: days, type: "heatmap", colorscale: "YlOrRd", reversescale: true, hoverongaps: false,
      colorbar: { title: { text: english ? "count" : "antal" } } }], {
      margin: { l: 40, r: 10, t: 10, b: 40 }, height: 260,
      xaxis: { title: { text: english ? "hour" : "timme" }, dtick: 2 }, yaxis: { autorange: "reversed" }
    }, config);
    el.dataset.drawn = code;
    /* The table beside the heat map shows the same indicator (all of them without JavaScript). */
    document.querySelectorAll("#how-tables [data-indicator]").forEach(function (t) {
      t.hidden = t.getAttribute("data-indicator") !== code;
    });
  }

  function bind(id, fn) {
    var sel = document.getElementById(id);
    if (!sel) { return; }
    sel.addEventListener("change", function () { fn(sel.value); });
    fn(sel.value);
  }
  bind("trend-indicator", drawTrend);
  bind("how-indicator", drawHours);

  /* Hot-spot and forecast layers on the area map. */
  var script = document.getElementById("area-js");
  var mapEl = document.getElementById("map");
  if (!script || !mapEl || typeof L === "undefined") { return; }
  var url = script.dataset.hotspots;
  function colour(v, max) {
    var r = max > 0 ? Math.min(1, v / max) : 0;
    return "rgba(" + Math.round(255) + "," + Math.round(200 - 160 * r) + "," + Math.round(60 - 60 * r) + "," + (0.15 + 0.6 * r) + ")";
  }
  function load(map) {
    var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (gj) {
      if (!gj || !gj.features) { return; }
      var max = 0;
      gj.features.forEach(function (f) { max = Math.max(max, f.properties.density || 0); });
      var density = L.geoJSON(gj, {
        interactive: false,
        style: function (f) { return { stroke: false, fillColor: colour(f.properties.density, max), fillOpacity: 1 }; }
      }).addTo(map);
      var hot = L.geoJSON({ type: "FeatureCollection", features: gj.features.filter(function (f) { return f.properties.label === 1; }) }, {
        style: { color: "#b03a2e", weight: 1.5, fill: false }
      }).addTo(map);
      control.addOverlay(density, english ? "Density" : "Täthet");
      control.addOverlay(hot, english ? "Gi* hot spots" : "Gi*-brännpunkter");
      mapEl.dataset.hotspots = String(gj.features.length);
    });
    fetch(url + "?layer=forecast", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (gj) {
      if (!gj || !gj.features) { return; }
      var fc = L.geoJSON(gj, { style: { color: "#1f4e9c", weight: 1, fillColor: "#1f4e9c", fillOpacity: 0.25, dashArray: "3" } });
      control.addOverlay(fc, english ? "Forecast next month" : "Prognos nästa månad");
      mapEl.dataset.forecast = String(gj.features.length);
    });
  }
  if (window.problembildMap && mapEl.dataset.loaded) { load(window.problembildMap); }
  else { mapEl.addEventListener("pb:areas-loaded", function (e) { load(e.detail.map); }, { once: true }); }
})();
