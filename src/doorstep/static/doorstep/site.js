/* Small behaviours every page may use, without inline scripts (the CSP allows none). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) {
      window.print();
    }
  });
})();
