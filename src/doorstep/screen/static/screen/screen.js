// The big screen: figures from server-sent events (or polling), a chart of today's visits by
// hour (Chart.js, served locally), a map coloured by the chosen figure (Leaflet, outlines
// only), and the views cycling by themselves. It never reloads the page.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) return;
  var labels = JSON.parse(document.getElementById("screen-labels").textContent);
  var data = JSON.parse(document.getElementById("screen-data").textContent) || {};
  var isCity = root.dataset.city === "1";
  var figure = root.dataset.mapFigure;
  var en = document.documentElement.lang === "en";
  var statusEl = document.getElementById("status");
  var chart = null, map = null, layer = null, outlines = null;
  var colours = ["#27415f", "#2f6690", "#3a7ca5", "#81c3d7", "#d9f0ff"];

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function pct(a, b) { return b ? Math.round(100 * a / b) + "%" : "—"; }
  function fmt(n) { return n == null ? "—" : Number(n).toLocaleString(en ? "en" : "zh-CN"); }

  function renderFigures() {
    root.querySelectorAll(".tile [data-figure]").forEach(function (el) {
      var key = el.dataset.figure, v;
      if (key === "activities.fill") v = pct(get(data, "activities.taken"), get(data, "activities.places"));
      else if (key === "coverage.share") v = data.coverage ? Math.round(100 * data.coverage.share) + "%" : "—";
      else v = fmt(get(data, key) || 0);
      el.textContent = v;
    });
    document.getElementById("tile-meals").hidden = !data.meals;
    document.getElementById("tile-requests").hidden = !data.requests;
    document.getElementById("synthetic").hidden = !data.synthetic;
    var topics = document.getElementById("topics");
    var items = (data.topics || []).map(function (t) {
      var li = document.createElement("li");
      var span = document.createElement("span");
      span.lang = "zh-Hans"; span.textContent = t.title;
      li.appendChild(span);
      li.appendChild(document.createTextNode(" · " + labels.supports.replace("%s", t.supports)));
      return li;
    });
    if (!items.length) { var li = document.createElement("li"); li.textContent = labels.none; items = [li]; }
    topics.replaceChildren.apply(topics, items);
    if (data.computed_at) statusEl.textContent = labels.updated.replace("%s", data.computed_at.slice(11, 19));
  }

  function renderChart() {
    if (typeof Chart === "undefined") return;
    var values = data.visits_by_hour || [];
    if (!chart) {
      var hours = []; for (var h = 0; h < 24; h++) hours.push(h + ":00");
      Chart.defaults.color = "#f2f5f8";
      Chart.defaults.font.size = Math.max(14, Math.round(window.innerWidth / 80));
      chart = new Chart(document.getElementById("hour-chart"), {
        type: "bar",
        data: { labels: hours, datasets: [{ label: labels.hour_chart, data: values, backgroundColor: "#ffb454" }] },
        options: {
          animation: false, maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#2a3b52" } }, x: { grid: { display: false } } }
        }
      });
    } else {
      chart.data.datasets[0].data = values;
      chart.update("none");
    }
  }

  function areaValue(a) {
    var v = a[figure];
    return v == null ? null : v;
  }
  function bands(values) {
    var max = Math.max.apply(null, values.concat([0]));
    if (figure === "fill" || figure === "coverage") max = 1;
    return function (v) {
      if (v == null || max <= 0) return 0;
      return Math.min(colours.length - 1, Math.floor((v / max) * colours.length));
    };
  }
  function legend(max) {
    var ol = document.getElementById("map-legend");
    var share = figure === "fill" || figure === "coverage";
    ol.replaceChildren.apply(ol, colours.map(function (c, i) {
      var li = document.createElement("li");
      li.style.setProperty("--swatch", c);
      var lo = share ? Math.round(100 * i / colours.length) + "%" : fmt(Math.round(max * i / colours.length));
      li.textContent = "≥ " + lo;
      return li;
    }));
  }

  function renderMap() {
    if (typeof L === "undefined") return;
    var el = document.getElementById("screen-map");
    if (!map) {
      // A kiosk map: nothing on it takes focus or leads away (the outlines' source is named
      // under the map instead of in Leaflet's linked attribution).
      map = L.map(el, {
        zoomControl: false, attributionControl: false, keyboard: false, dragging: false,
        scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, touchZoom: false, zoomSnap: 0.25
      }).setView([31.2, 121.45], 9);
      el.removeAttribute("tabindex");
      fetch(root.dataset.outlines).then(function (r) { return r.json(); }).then(function (geo) {
        outlines = geo; renderMap();
      });
      return;
    }
    if (!outlines) return;
    if (layer) layer.remove();
    layer = L.layerGroup().addTo(map);
    if (isCity) {
      var areas = data.areas || {};
      var values = Object.keys(areas).map(function (k) { return areaValue(areas[k]) || 0; });
      var band = bands(values);
      var max = Math.max.apply(null, values.concat([0]));
      var spoken = [];
      L.geoJSON(outlines, {
        style: function (f) {
          var a = areas[f.properties.code] || {};
          return { color: "#f2f5f8", weight: 1, fillOpacity: 0.85, fillColor: colours[band(areaValue(a))], interactive: false };
        },
        onEachFeature: function (f, l) {
          var a = areas[f.properties.code] || {};
          var v = areaValue(a);
          var shown = (figure === "fill" || figure === "coverage") ? (v == null ? "—" : Math.round(100 * v) + "%") : fmt(v);
          var text = (en ? (f.properties.name_en || f.properties.name) : f.properties.name) + " " + shown;
          l.bindTooltip(text, { permanent: true, direction: "center", className: "area-label" });
          var li = document.createElement("li"); li.textContent = text; spoken.push(li);
        }
      }).addTo(layer);
      var list = document.getElementById("map-values");
      list.replaceChildren.apply(list, spoken);
      legend(max);
    } else {
      var own = { type: "FeatureCollection", features: outlines.features.filter(function (f) { return f.properties.code === root.dataset.code; }) };
      var shape = L.geoJSON(own, { style: function () { return { color: "#f2f5f8", weight: 2, fillOpacity: 0.1, interactive: false }; } }).addTo(layer);
      if (own.features.length) map.fitBounds(shape.getBounds(), { padding: [20, 20] });
      var top = Math.max.apply(null, (data.centers || []).map(function (c) { return c[3]; }).concat([1]));
      (data.centers || []).forEach(function (c) {
        L.circleMarker([c[1], c[2]], { radius: 4 + 16 * Math.sqrt(c[3] / top), color: "#ffb454", weight: 1, fillOpacity: 0.7, interactive: false }).addTo(layer);
      });
      legend(top);
    }
  }

  function render() { renderFigures(); renderChart(); if (!document.getElementById("view-map").hidden) renderMap(); }

  // Views: pinned by ?view=, else cycling every data-cycle seconds.
  var views = ["today", "map", "services"].map(function (v) { return document.getElementById("view-" + v); });
  var pinned = root.dataset.view;
  var index = 0;
  function show(i) {
    views.forEach(function (v, j) { v.hidden = j !== i; });
    if (views[i].id === "view-map") { renderMap(); if (map) map.invalidateSize(); }
  }
  if (pinned) { show(["today", "map", "services"].indexOf(pinned)); }
  else {
    show(0);
    setInterval(function () { index = (index + 1) % views.length; show(index); }, Number(root.dataset.cycle) * 1000);
  }

  // Updates: the event stream; polling every 15 s where it keeps failing.
  var polling = null, failures = 0;
  function poll() {
    fetch(root.dataset.json, { cache: "no-store" }).then(function (r) { return r.json(); })
      .then(function (d) { data = d; render(); statusEl.textContent += " · " + labels.polling; })
      .catch(function () { statusEl.textContent = labels.offline; });
  }
  function connect() {
    if (!window.EventSource) { polling = setInterval(poll, 15000); return; }
    var es = new EventSource(root.dataset.events);
    es.onmessage = function (e) { failures = 0; data = JSON.parse(e.data); render(); };
    es.onerror = function () {
      failures += 1;
      if (failures >= 3 && !polling) { es.close(); statusEl.textContent = labels.offline; poll(); polling = setInterval(poll, 15000); }
    };
  }
  window.addEventListener("load", function () { render(); connect(); });
})();
