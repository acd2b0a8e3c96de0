/* Small behaviours every page may use, without inline scripts (the CSP allows none). */
(function () {
  "use strict";
  function flash(button, text) {
    var before = button.textContent;
    button.textContent = text;
    setTimeout(function () { button.textContent = before; }, 2000);
  }
  function copy(text, button) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { flash(button, button.dataset.done); });
      return;
    }
    // Plain http on a phone in the center's Wi-Fi: select the text so a long press copies it.
    var range = document.createRange();
    var node = document.querySelector(button.dataset.copy);
    if (node) { range.selectNodeContents(node); var s = window.getSelection(); s.removeAllRanges(); s.addRange(range); }
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) {
      window.print();
      return;
    }
    var copier = event.target.closest("[data-copy]");
    if (copier) {
      var node = document.querySelector(copier.dataset.copy);
      if (node) { copy(node.value || node.textContent.trim(), copier); }
      return;
    }
    var sharer = event.target.closest("[data-share-url]");
    if (sharer && navigator.share) {
      navigator.share({ title: document.title, url: sharer.dataset.shareUrl }).catch(function () {});
    }
  });
  // "Send a new code in 42 s": the button waits as long as the server would refuse.
  document.querySelectorAll("[data-wait]").forEach(function (b) {
    var left = parseInt(b.dataset.wait, 10) || 0;
    if (left <= 0) { return; }
    var label = b.textContent;
    function tick() {
      if (left <= 0) { b.disabled = false; b.textContent = label; return; }
      b.disabled = true;
      b.textContent = b.dataset.waitText.replace("{n}", left);
      left -= 1;
      setTimeout(tick, 1000);
    }
    tick();
  });
  // The share button only where the phone can share; the link and QR are always there.
  if (navigator.share) {
    document.querySelectorAll("[data-share-url]").forEach(function (b) { b.hidden = false; });
  }
})();
