// A route on the vector map: numbered stops joined in order, stamped ones filled.
(function () {
  var el = document.getElementById("route-map");
  if (!el || !window.L || !window.doorstepOutlineMap) { return; }
  var points = JSON.parse(document.getElementById("route-points").textContent || "[]");
  var map = window.doorstepOutlineMap(el);
  var line = [];
  points.forEach(function (p) {
    line.push([p.lat, p.lng]);
    window.doorstepMarker(map, { lat: p.lat, lng: p.lng, url: p.url, label: p.order + ". " + p.name }, {
      radius: 10, color: p.stamped ? "#1b5e20" : "#b3261e", weight: 3,
      fillColor: p.stamped ? "#2e7d32" : "#ffffff", fillOpacity: 0.9
    });
  });
  if (line.length > 1) { L.polyline(line, { color: "#b3261e", weight: 2, dashArray: "6 6" }).addTo(map); }
  if (line.length) { map.fitBounds(L.latLngBounds(line).pad(0.3)); }
})();
