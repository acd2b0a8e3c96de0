// The door phone's service worker: keeps the check-in page and its scripts available when
// the center's Wi-Fi drops, so a reload (or a phone that slept) still opens the door. Pages
// are fetched from the network first and kept; offline, the kept copy answers. The queue of
// offline scans lives in IndexedDB (checkin.js) and is sent when the connection is back.
"use strict";
var CACHE = "doorstep-door-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var door = /^\/staff\/activities\/\d+\/checkin$/.test(url.pathname);
  if (!door && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (kept) { return kept || Response.error(); });
    })
  );
});
