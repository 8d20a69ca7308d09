/* Problembild map: areas over the shipped municipality boundaries; no tiles unless configured. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var english = document.documentElement.lang === "en";
  var map = L.map(el, { preferCanvas: false, zoomSnap: 0.25, attributionControl: true, zoomControl: false });
  /* The zoom buttons' names in the page's language (Leaflet's are English). */
  L.control.zoom({ zoomInTitle: english ? "Zoom in" : "Zooma in", zoomOutTitle: english ? "Zoom out" : "Zooma ut" }).addTo(map);
  map.attributionControl.setPrefix(false);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: "Karta: konfigurerad kartserver" }).addTo(map);
  }
  var focus = el.dataset.focus ? parseInt(el.dataset.focus, 10) : null;
  var visible = el.dataset.visible !== undefined && el.dataset.visible !== ""
    ? el.dataset.visible.split(",").map(function (v) { return parseInt(v, 10); }) : null;
  var areaUrl = el.dataset.areaUrl || "";
  window.problembildMap = map;
  /* Leaflet puts a string into the tooltip as HTML; names are data, so they go in as text. */
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function get(url) { return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }); }
  get(el.dataset.municipalities).then(function (data) {
    L.geoJSON(data, {
      interactive: false,
      style: { color: "#9aa5b1", weight: 0.6, fillColor: "#ffffff", fillOpacity: 0.9 }
    }).addTo(map).bringToBack();
    if (!map._loaded) { map.fitBounds([[55.3, 11.0], [69.1, 24.2]]); }
  });
  get(el.dataset.areas).then(function (data) {
    var features = data.features.filter(function (f) {
      return visible === null || visible.indexOf(f.properties.panel_id) >= 0;
    });
    var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function (f) {
        var on = focus === null || f.properties.panel_id === focus;
        return { color: "#222", weight: on ? 2 : 1, fillColor: f.properties.colour, fillOpacity: on ? 0.7 : 0.25 };
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties;
        lyr.bindTooltip(textNode(p.name + " – " + (p.category_label || p.category || "") + (p.year ? " (" + p.year + ")" : "")));
        lyr.on("click", function () { window.location.href = areaUrl.replace("/0/", "/" + p.panel_id + "/"); });
        /* No aria-label on the path (a path has no role that allows one): the table beside
           the map names every area and links to it, from the keyboard too. */
        lyr.on("add", function () {
          var path = lyr.getElement && lyr.getElement();
          if (path) { path.setAttribute("data-panel-id", p.panel_id); }
        });
      }
    }).addTo(map);
    el.dataset.loaded = String(features.length);
    var target = layer;
    if (focus !== null) {
      layer.eachLayer(function (lyr) { if (lyr.feature.properties.panel_id === focus) { target = lyr; } });
    }
    if (features.length) { map.fitBounds(target.getBounds(), { padding: [20, 20], maxZoom: focus !== null ? 15 : 12 }); }
    else { map.fitBounds([[55.3, 11.0], [69.1, 24.2]]); }
    el.dispatchEvent(new CustomEvent("pb:areas-loaded", { detail: { map: map, layer: layer } }));
  });
})();
