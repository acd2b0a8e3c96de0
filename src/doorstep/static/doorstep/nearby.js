// "Open now near me" and "Use my location": ask the browser for a position, then reload the
// results sorted by distance. Without JavaScript the links still work, unsorted.
(function () {
  function go(params) {
    var url = new URL("/centers/", window.location.origin);
    Object.keys(params).forEach(function (k) { url.searchParams.set(k, params[k]); });
    window.location.assign(url.toString());
  }
  function locate(onPoint, onFail) {
    if (!navigator.geolocation) { onFail(); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { onPoint(pos.coords.latitude.toFixed(6), pos.coords.longitude.toFixed(6)); },
      onFail, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
  }
  var near = document.getElementById("open-near-me");
  if (near) {
    near.addEventListener("click", function (ev) {
      ev.preventDefault();
      locate(function (lat, lng) { go({ open_now: "1", lat: lat, lng: lng, radius_m: "2000" }); },
             function () { window.location.assign(near.href); });
    });
  }
  var use = document.getElementById("use-location");
  if (use) {
    use.addEventListener("click", function () {
      locate(function (lat, lng) {
        var form = document.getElementById("filters");
        form.querySelector("#lat").value = lat;
        form.querySelector("#lng").value = lng;
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }, function () { use.setAttribute("aria-describedby", "near-hint"); });
    });
  }
  var clear = document.getElementById("clear-location");
  if (clear) {
    clear.addEventListener("click", function () {
      var form = document.getElementById("filters");
      form.querySelector("#lat").value = "";
      form.querySelector("#lng").value = "";
      form.querySelector("#radius_m").value = "";
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }
})();
