/* Live countdown to "registration opens". Without JavaScript the page shows the time itself.
   The server sends the seconds left, so a phone with a wrong clock still counts correctly. */
(function () {
  "use strict";
  var words = null;
  var started = Date.now();

  function readWords() {
    var el = document.getElementById("countdown-text");
    return el ? JSON.parse(el.textContent) : null;
  }

  function part(key, n) {
    return words[key].replace("{n}", String(n));
  }

  function describe(seconds) {
    var d = Math.floor(seconds / 86400);
    var h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var parts;
    if (d > 0) parts = [part("d", d), part("h", h)];
    else if (h > 0) parts = [part("h", h), part("m", m)];
    else parts = [part("m", m), part("s", s)];
    return words["in"].replace("{time}", parts.join(" "));
  }

  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (!el.dataset.base) {
        // Counted from when this element arrived (htmx may swap new ones in later).
        el.dataset.base = String(parseInt(el.dataset.countdown, 10) + elapsed);
      }
      var left = parseInt(el.dataset.base, 10) - elapsed;
      el.textContent = " (" + (left > 0 ? describe(left) : words.now) + ")";
    });
  }

  function start() {
    words = readWords();
    if (!words) return;
    tick();
    setInterval(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
