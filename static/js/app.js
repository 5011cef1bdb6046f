// Recondesk's small client-side helpers (loaded with the CSP nonce).
(function () {
  "use strict";
  // Dismissible banners.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-dismiss]");
    if (btn) {
      var box = btn.closest("[data-dismissible]");
      if (box) box.remove();
    }
  });
})();
