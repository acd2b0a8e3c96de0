// The coach's board: tiles and open alerts, from server-sent events, or by polling when the
// stream is not available. A new alert sounds (WebAudio, no file) and stays until acknowledged.
(function () {
  var root = document.getElementById("gym-board");
  if (!root) { return; }
  var tiles = document.getElementById("tiles");
  var alerts = document.getElementById("alerts");
  var status = document.getElementById("connection");
  var seen = {};
  var lastAlerts = null;
  var first = true;
  var labels = JSON.parse(document.getElementById("board-labels").textContent);

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var o = ctx.createOscillator(); var g = ctx.createGain();
      o.type = "square"; o.frequency.value = 880; g.gain.value = 0.2;
      o.connect(g); g.connect(ctx.destination); o.start();
      setTimeout(function () { o.stop(); ctx.close(); }, 600);
    } catch (e) { /* a board without sound still shows the alert */ }
  }

  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = value;
    return el;
  }

  function render(state) {
    var alerting = {};
    state.alerts.forEach(function (a) { alerting[a.session] = true; });
    tiles.replaceChildren.apply(tiles, state.tiles.map(function (t) {
      var li = document.createElement("li");
      li.className = "tile zone-" + t.zone + (alerting[t.session] ? " alerting" : "");
      li.appendChild(text("div", "name", t.name));
      li.appendChild(text("div", "bpm", t.bpm === null ? "—" : String(t.bpm)));
      var arrow = t.trend === "up" ? "↑" : (t.trend === "down" ? "↓" : "→");
      var age = t.signal_age === null ? labels.no_signal : labels.signal.replace("%s", t.signal_age);
      li.appendChild(text("div", "meta", labels.zones[t.zone] + " " + arrow + " · " + age + " · " + t.band));
      return li;
    }));
    var fresh = false;
    // The alerts are rebuilt only when they change (the tiles change every second), and what
    // a coach was typing into an alert's form, and where, survives a rebuild.
    var signature = JSON.stringify(state.alerts);
    if (signature === lastAlerts) {
      if (fresh && !first) { beep(); }
      first = false;
      return;
    }
    lastAlerts = signature;
    var typed = {};
    alerts.querySelectorAll("li[data-id] input[name=action]").forEach(function (input) {
      typed[input.closest("li").dataset.id] = input.value;
    });
    var active = document.activeElement;
    var focusedId = active && active.name === "action" && active.closest("li[data-id]") ?
      active.closest("li[data-id]").dataset.id : null;
    alerts.replaceChildren.apply(alerts, state.alerts.map(function (a) {
      if (!seen[a.id]) { seen[a.id] = true; fresh = true; }
      var li = document.createElement("li");
      li.dataset.id = String(a.id);
      if (a.escalated) { li.className = "escalated"; }
      li.appendChild(text("strong", "", a.name + " · " + a.label + (a.value ? " (" + a.value + ")" : "")));
      li.appendChild(text("span", "", " · " + a.raised_at + (a.escalated ? " · " + labels.escalated : "")));
      var form = document.createElement("form");
      form.method = "post";
      form.action = root.dataset.ackBase + a.id + "/acknowledge";
      var csrf = document.createElement("input");
      csrf.type = "hidden"; csrf.name = "csrfmiddlewaretoken"; csrf.value = root.dataset.csrf;
      var input = document.createElement("input");
      input.type = "text"; input.name = "action"; input.required = true; input.maxLength = 300;
      input.setAttribute("aria-label", labels.what_done + " " + a.name);
      input.placeholder = labels.what_done;
      if (typed[String(a.id)]) { input.value = typed[String(a.id)]; }
      var button = text("button", "", labels.acknowledge);
      button.type = "submit";
      form.append(csrf, input, button);
      li.appendChild(form);
      if (focusedId === String(a.id)) { setTimeout(function () { input.focus(); }, 0); }
      return li;
    }));
    if (fresh && !first) { beep(); }
    first = false;
  }

  function poll() {
    fetch(root.dataset.state, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) { render(s); status.textContent = labels.polling; })
      .catch(function () { status.textContent = labels.offline; })
      .finally(function () { setTimeout(poll, 2000); });
  }

  if (window.EventSource) {
    var failures = 0;
    var source = new EventSource(root.dataset.events);
    source.onmessage = function (e) { failures = 0; status.textContent = labels.live; render(JSON.parse(e.data)); };
    source.onerror = function () {
      failures += 1;
      if (failures > 3) { source.close(); poll(); }
    };
  } else {
    poll();
  }
})();
