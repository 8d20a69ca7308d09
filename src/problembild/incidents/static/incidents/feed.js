/* Events feed page: municipality choropleth (Leaflet) and monthly chart by type (Plotly).
   The figures come from the page (#feed-data, written by json_script); the boundaries from
   the shipped municipality GeoJSON. The feed's positions are municipality or county
   centroids, so nothing is drawn as a point. */
(function () {
  "use strict";
  var holder = document.getElementById("feed-data");
  if (!holder) { return; }
  var data = JSON.parse(holder.textContent);
  var lang = document.documentElement.lang || "sv";
  var labels = data.labels || {};

  function number(v, digits) {
    return v.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  /* --- map --- */
  var el = document.getElementById("feed-map");
  if (el && typeof L !== "undefined") {
    var english = lang === "en";
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: true, zoomControl: false });
    /* The zoom buttons' names in the page's language (Leaflet's are English). */
    L.control.zoom({ zoomInTitle: english ? "Zoom in" : "Zooma in", zoomOutTitle: english ? "Zoom out" : "Zooma ut" }).addTo(map);
    map.attributionControl.setPrefix(false);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: "Karta: konfigurerad kartserver" }).addTo(map);
    }
    map.fitBounds([[55.3, 11.0], [69.1, 24.2]]);
    fetch(el.dataset.municipalities, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (gj) {
        var features = gj.features.filter(function (f) { return data.munis[f.properties.code] !== undefined; });
        var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
          style: function (f) {
            var m = data.munis[f.properties.code];
            var selected = f.properties.code === data.selected;
            var fill = m.c < 0 ? data.missing : data.colours[m.c];
            return { color: selected ? "#000" : "#5f6b77", weight: selected ? 2.5 : 0.6, fillColor: fill, fillOpacity: 0.85 };
          },
          onEachFeature: function (f, lyr) {
            var p = f.properties;
            var m = data.munis[p.code];
            var text = p.name + ": " + number(m.n, 0) + " " + (labels.events || "") + ", " +
              (m.rate === null ? (labels.nopop || "") : number(m.rate, 2) + " " + (labels.per || ""));
            /* As text, never HTML: Leaflet would parse a string (the name is data). */
            var tip = document.createElement("span");
            tip.textContent = text;
            lyr.bindTooltip(tip, { sticky: true });
            lyr.on("click", function () { window.location.href = data.link + encodeURIComponent(p.code); });
            /* No aria-label on the path (a path has no role that allows one): the table below
               holds the same figures per municipality, with links, from the keyboard too. */
            lyr.on("add", function () {
              var path = lyr.getElement && lyr.getElement();
              if (path) { path.setAttribute("data-code", p.code); }
            });
          }
        }).addTo(map);
        el.dataset.loaded = String(features.length);
        if (features.length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      });
  }

  /* --- monthly chart by type --- */
  var chartEl = document.getElementById("feed-chart");
  var chart = data.chart;
  if (chartEl && chart && typeof Plotly !== "undefined") {
    if (!chart.months.length) {
      chartEl.textContent = "–";
    } else {
      var traces = chart.series.map(function (s) {
        return { x: chart.months, y: s.counts, type: "bar", name: s.name };
      });
      Plotly.newPlot(chartEl, traces, {
        barmode: "stack", height: 360, margin: { l: 50, r: 10, t: 10, b: 40 },
        legend: { orientation: "h", y: -0.2 },
        xaxis: { title: { text: labels.month || "" }, type: "category" },
        yaxis: { title: { text: labels.count || "" }, rangemode: "tozero" }
      }, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
      chartEl.dataset.drawn = String(chart.series.length);
    }
  }
})();
