// "Near me" on the room search: the phone's position fills the form's lat/lng once and the
// search runs (the position goes in the address, as the directory's nearby does, and is not
// stored). Without it, the search covers a district or the whole city.
(function () {
  var button = document.getElementById("rooms-near-me");
  var form = document.getElementById("rooms-search");
  if (!button || !form || !navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      form.submit();
    }, function () {}, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
  });
})();
