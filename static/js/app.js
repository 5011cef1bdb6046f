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

  // One rule for every htmx request (responseHandling in the layout's
  // htmx-config): 4xx fragments are swapped into their target (form errors,
  // "too many attempts", invalid filters); 5xx and network failures show
  // this visible message at the top of the page instead of failing silently.
  function showError(text) {
    var main = document.getElementById("main");
    if (!main) return;
    var old = document.getElementById("htmx-error");
    if (old) old.remove();
    var box = document.createElement("div");
    box.id = "htmx-error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "htmx-error");
    box.setAttribute("data-dismissible", "");
    box.className = "mb-4 flex items-start justify-between rounded border border-red-300 bg-red-50 px-4 py-3 text-red-900";
    var p = document.createElement("p");
    p.textContent = text;
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "ml-4 text-sm underline";
    btn.setAttribute("data-dismiss", "");
    btn.textContent = "Dismiss";
    box.appendChild(p);
    box.appendChild(btn);
    main.insertBefore(box, main.firstChild);
  }
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail && ev.detail.xhr;
    var status = xhr ? xhr.status : 0;
    showError("Something went wrong on our side (" + status + "). Nothing was changed by this page; please try again, and tell an administrator if it persists.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError("Recondesk could not be reached. Check your connection and try again.");
  });
})();
