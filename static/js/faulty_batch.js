// The batch page's "select all on this page": ticks or clears every
// booking checkbox of the Resolve selected form (the server resolves every
// open booking of the page when it is ticked, so it works without this too).
(function () {
  "use strict";
  if (window.recondeskBatch) return;
  window.recondeskBatch = true;
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("[data-select-page]")) {
      document.querySelectorAll('input[name="item"][form="resolve-items-form"]').forEach(function (box) {
        box.checked = t.checked;
      });
    } else if (t.matches('input[name="item"][form="resolve-items-form"]') && !t.checked) {
      var all = document.querySelector("[data-select-page]");
      if (all) all.checked = false;
    }
  });
})();
