// Door check-in: scan a ticket's QR code with the camera, or type its short code.
// QR codes are read by ZXing-C++ (the barcode-detector package, served from /static/vendor),
// so the camera works in iOS Safari, WeChat and every current mobile browser; a native
// BarcodeDetector, where the browser has one, is used instead as the faster path.
// Without JavaScript the form posts normally with the nonce the server put in it. With it,
// every scan or typed code gets a fresh nonce, is posted in the background with the CSRF
// header, and the answer replaces the result panel. A retry after a lost connection reuses
// the nonce, so the server answers it like the first and records nothing twice.
//
// Offline (the center's Wi-Fi drops): a scanned ticket is verified on the phone with the
// day's public Ed25519 key the page carries (WebCrypto), shown as "recorded offline", and
// queued with its nonce in IndexedDB; the queue is sent when the connection is back, and the
// server applies each scan once and reports conflicts (cancelled meanwhile, another door).
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form || !window.fetch) return;
  var input = form.querySelector("input[name=token]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var video = document.getElementById("camera");
  var cameraError = document.getElementById("camera-error");
  var busy = false;
  var lastCode = "";
  var lastAt = 0;
  var stream = null;
  var detector = null;

  function freshNonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function showResult(html) {
    var live = document.getElementById("checkin-live");
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#checkin-live");
    if (live && fresh) live.replaceWith(fresh);
    var panel = document.getElementById("checkin-result");
    if (panel && navigator.vibrate) {
      navigator.vibrate(panel.classList.contains("result-welcome") ? 80 : [60, 60, 60]);
    }
  }

  function showOffline() {
    var panel = document.getElementById("checkin-result");
    if (!panel) return;
    panel.className = "result-panel result-invalid_ticket";
    panel.innerHTML = "";
    var p = document.createElement("p");
    p.className = "result-message";
    p.textContent = form.dataset.offline;
    panel.appendChild(p);
  }

  var ALPHABET32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var SHORT = /^[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6,8}$/;

  function base32(text) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      var v = ALPHABET32.indexOf(text.charAt(i));
      if (v < 0) return null;
      value = (value << 5) | v;
      bits += 5;
      if (bits >= 8) {
        out.push((value >>> (bits - 8)) & 255);
        bits -= 8;
      }
    }
    return new Uint8Array(out);
  }

  function base64url(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function tokenOf(text) {
    if (/^https?:\/\//.test(text)) {
      try {
        var path = new URL(text).pathname;
        if (path.indexOf("/t/") === 0) return path.slice(3).replace(/\/+$/, "");
      } catch (e) { /* not a URL: as typed */ }
    }
    return text;
  }

  // The queue of offline scans, in IndexedDB (kept if the page is closed or reloaded).
  var dbPromise = null;
  function db() {
    if (!window.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open("doorstep-checkin", 1);
        open.onupgradeneeded = function () {
          open.result.createObjectStore("queue", { keyPath: "nonce" });
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }

  function store(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("queue", mode);
        var result = work(tx.objectStore("queue"));
        tx.oncomplete = function () { resolve(result && result.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function queued() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).filter(function (x) { return x.activity === form.dataset.activity; });
    });
  }

  function showQueue() {
    var el = document.getElementById("offline-queue");
    if (!el) return Promise.resolve();
    return queued().then(function (items) {
      el.hidden = !items.length;
      el.textContent = form.dataset.queued + " " + items.length;
    }, function () {});
  }

  function showPanel(message, kind) {
    var panel = document.getElementById("checkin-result");
    if (!panel) return;
    panel.className = "result-panel result-" + kind;
    panel.innerHTML = "";
    var p = document.createElement("p");
    p.className = "result-message";
    p.textContent = message;
    panel.appendChild(p);
  }

  function verifyOffline(token) {
    var parts = token.split(".");
    if (parts.length !== 4 || parts[1] !== form.dataset.activity || parts[2] !== form.dataset.day) {
      return Promise.resolve(false);
    }
    var signature = base32(parts[3].toUpperCase());
    if (!signature || signature.length !== 64 || !window.crypto || !crypto.subtle) {
      return Promise.resolve(null);
    }
    var body = new TextEncoder().encode(parts.slice(0, 3).join("."));
    return crypto.subtle.importKey(
      "raw", base64url(form.dataset.dayKey), { name: "Ed25519" }, false, ["verify"]
    ).then(function (key) {
      return crypto.subtle.verify({ name: "Ed25519" }, key, signature, body);
    }, function () {
      return null; // no Ed25519 in this browser: the server checks it when back online
    });
  }

  function recordOffline(text, nonce) {
    var compact = text.toUpperCase().replace(/[\s-]/g, "");
    var token = tokenOf(text);
    var isCode = SHORT.test(compact) && token.indexOf(".") === -1;
    var check = isCode ? Promise.resolve(null) : verifyOffline(token);
    return check.then(function (valid) {
      if (valid === false) {
        showPanel(form.dataset.invalidOffline, "invalid_ticket");
        return;
      }
      var id = isCode ? compact : token.split(".")[0];
      return queued().then(function (items) {
        if (items.some(function (x) { return x.id === id; })) {
          showPanel(form.dataset.twiceOffline, "already_checked_in");
          return;
        }
        var item = {
          nonce: nonce, token: isCode ? compact : token, id: id,
          activity: form.dataset.activity, at: new Date().toISOString(),
        };
        return store("readwrite", function (s) { return s.put(item); }).then(function () {
          showPanel(
            valid ? form.dataset.recordedOffline : form.dataset.codeOffline,
            valid ? "offline" : "offline_unchecked"
          );
          return showQueue();
        });
      });
    }).catch(function () { showOffline(); });
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !form.dataset.sync) return Promise.resolve();
    flushing = true;
    return queued().then(function (items) {
      if (!items.length) return;
      return fetch(form.dataset.sync, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" },
        body: JSON.stringify({
          scans: items.map(function (x) { return { token: x.token, nonce: x.nonce, at: x.at }; }),
        }),
      }).then(function (response) {
        if (!response.ok) return;
        return response.json().then(function (answer) {
          var done = answer.results.map(function (r) { return r.nonce; });
          showConflicts(answer.results.filter(function (r) { return r.conflict; }));
          Object.keys(answer.counts || {}).forEach(function (key) {
            var el = document.querySelector("[data-count=" + key + "]");
            if (el) el.textContent = answer.counts[key];
          });
          return store("readwrite", function (s) {
            done.forEach(function (n) { s.delete(n); });
          });
        });
      });
    }).catch(function () {}).then(function () {
      flushing = false;
      return showQueue();
    });
  }

  function showConflicts(conflicts) {
    if (!conflicts.length) return;
    var section = document.getElementById("offline-conflicts");
    var list = section && section.querySelector("[data-conflict-list]");
    if (!list) return;
    conflicts.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = (c.person ? c.person + " · " : "") + c.message;
      list.insertBefore(li, list.firstChild);
    });
    section.hidden = false;
  }

  // Keep this page available offline (a reload while the Wi-Fi is down still opens it).
  if ("serviceWorker" in navigator && form.dataset.sw) {
    navigator.serviceWorker.register(form.dataset.sw, { scope: "/staff/" }).catch(function () {});
  }

  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  flush();

  function send(token, nonce, triesLeft) {
    if (!navigator.onLine) return recordOffline(token, nonce);
    var body = new FormData();
    body.append("token", token);
    body.append("nonce", nonce);
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
    }).then(function (response) {
      if (response.redirected || !response.ok) {
        // Signed out or the page expired: let the browser show it.
        window.location.reload();
        return;
      }
      return response.text().then(showResult);
    }, function () {
      if (triesLeft > 0 && navigator.onLine) return send(token, nonce, triesLeft - 1);
      return recordOffline(token, nonce);
    });
  }

  function submit(token) {
    token = (token || "").trim();
    if (!token || busy) return;
    busy = true;
    send(token, freshNonce(), 2).then(function () {
      busy = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit(input.value);
    input.value = "";
    input.focus();
  });

  function scanLoop() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      var now = Date.now();
      if (codes.length) {
        var code = codes[0].rawValue;
        // The same ticket held in front of the camera is one scan, not one every frame.
        if (code !== lastCode || now - lastAt > 4000) {
          lastCode = code;
          submit(code);
        }
        lastAt = now;
      }
    }).catch(function () {}).then(function () {
      if (stream) setTimeout(scanLoop, 250);
    });
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function startCamera() {
    cameraError.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        return video.play().then(scanLoop);
      })
      .catch(function () {
        stopCamera();
        cameraError.textContent = form.dataset.cameraError;
        cameraError.hidden = false;
      });
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window) || !window.BarcodeDetector.getSupportedFormats) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") === -1
        ? null
        : new window.BarcodeDetector({ formats: ["qr_code"] });
    }, function () { return null; });
  }

  function zxingDetector() {
    var api = window.BarcodeDetectionAPI;
    if (!api) return null;
    var wasm = form.dataset.wasm;
    // The decoder's WebAssembly comes from this site, never from a CDN.
    api.prepareZXingModule({
      overrides: {
        locateFile: function (path, prefix) {
          return path.slice(-5) === ".wasm" ? wasm : prefix + path;
        },
      },
    });
    return new api.BarcodeDetector({ formats: ["qr_code"] });
  }

  // The camera button appears where the browser can film; the reader is the native one if
  // it has one, else ZXing.
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    nativeDetector().then(function (native) {
      detector = native || zxingDetector();
      if (!detector) return;
      startButton.hidden = false;
      startButton.addEventListener("click", startCamera);
      stopButton.addEventListener("click", stopCamera);
    }).catch(function () {});
  }

  // Keep the counts current while other doors check people in.
  var countsUrl = form.dataset.counts;
  setInterval(function () {
    if (document.hidden || busy) return;
    fetch(countsUrl, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (counts) {
      if (!counts) return;
      Object.keys(counts).forEach(function (key) {
        var el = document.querySelector("[data-count=" + key + "]");
        if (el) el.textContent = counts[key];
      });
    }).catch(function () {});
  }, 15000);
})();
