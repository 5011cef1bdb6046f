// Failures queue: a "select all" checkbox for bulk assignment.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.closest("form");
    if (!form) return;
    var boxes = form.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });
})();
