// "Use my location" on today's canteens: the position sorts the list once (it goes in the
// address, as the directory's nearby does, and is not stored). Without it, the list is by name.
(function () {
  var button = document.getElementById("meals-near-me");
  if (!button || !navigator.geolocation) { return; }
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var url = new URL(window.location.href);
      url.searchParams.set("lat", pos.coords.latitude.toFixed(6));
      url.searchParams.set("lng", pos.coords.longitude.toFixed(6));
      window.location.assign(url.toString());
    }, function () {}, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
  });
})();
