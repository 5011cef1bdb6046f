// Recondesk's small client-side helpers (loaded with the CSP nonce).
(function () {
  "use strict";

  // setMenu opens or closes the collapsible main navigation.
  function setMenu(btn, open) {
    var panel = document.getElementById(btn.getAttribute("aria-controls"));
    if (!panel) return;
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    panel.classList.toggle("hidden", !open);
    panel.classList.toggle("flex", open);
  }

  document.addEventListener("click", function (ev) {
    // Dismissible banners.
    var btn = ev.target.closest("[data-dismiss]");
    if (btn) {
      var box = btn.closest("[data-dismissible]");
      if (box) box.remove();
      return;
    }
    // The menu button of the main navigation on narrow screens.
    var toggle = ev.target.closest("[data-nav-toggle]");
    if (toggle) {
      setMenu(toggle, toggle.getAttribute("aria-expanded") !== "true");
    }
  });

  // Escape closes the open menu and gives focus back to its button.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    var toggle = document.querySelector('[data-nav-toggle][aria-expanded="true"]');
    if (toggle) {
      setMenu(toggle, false);
      toggle.focus();
    }
  });
})();
