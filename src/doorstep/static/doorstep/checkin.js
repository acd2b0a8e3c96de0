// Door check-in: scan a ticket's QR code with the camera, or type its short code.
// QR codes are read by ZXing-C++ (the barcode-detector package, served from /static/vendor),
// so the camera works in iOS Safari, WeChat and every current mobile browser; a native
// BarcodeDetector, where the browser has one, is used instead as the faster path.
// Without JavaScript the form posts normally with the nonce the server put in it. With it,
// every scan or typed code gets a fresh nonce, is posted in the background with the CSRF
// header, and the answer replaces the result panel. A retry after a lost connection reuses
// the nonce, so the server answers it like the first and records nothing twice.
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

  function send(token, nonce, triesLeft) {
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
      if (triesLeft > 0) return send(token, nonce, triesLeft - 1);
      showOffline();
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
