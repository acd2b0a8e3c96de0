// The red heritage map: heritage sites (red) and centers (blue), each linking to its page.
// The list under the map has the same places.
(function () {
  var el = document.getElementById("heritage-map");
  if (!el || !window.L || !window.doorstepOutlineMap) { return; }
  var points = JSON.parse(document.getElementById("heritage-points").textContent || "[]");
  var map = window.doorstepOutlineMap(el, [31.23, 121.48]);
  var bounds = [];
  points.forEach(function (p) {
    bounds.push([p.lat, p.lng]);
    var site = p.kind === "site";
    window.doorstepMarker(map, p, {
      radius: site ? 9 : 7, color: site ? "#b3261e" : "#1a4f8b", weight: 3,
      fillColor: site ? "#b3261e" : "#ffffff", fillOpacity: 0.85
    });
  });
  if (bounds.length) { map.fitBounds(L.latLngBounds(bounds).pad(0.3), { maxZoom: 15 }); }
})();
