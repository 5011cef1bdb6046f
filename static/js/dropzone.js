// E-ZPass imports: a drop zone for the export file, a size check before
// uploading, upload progress, and refusals shown in place.
(function () {
  "use strict";

  function zoneOf(el) {
    return el && el.closest ? el.closest("[data-dropzone]") : null;
  }

  function statusOf(zone) {
    return zone.querySelector("[data-dropzone-status]");
  }

  function say(zone, text, isError) {
    var s = statusOf(zone);
    if (!s) return;
    s.textContent = text;
    s.hidden = false;
    s.classList.remove("hidden");
    s.setAttribute("data-error", isError ? "true" : "false");
    s.setAttribute("role", isError ? "alert" : "status");
  }

  function mb(bytes) {
    var v = bytes / 1048576;
    return (v < 10 ? v.toFixed(1) : v.toFixed(0)) + " MB";
  }

  // check refuses what the server would refuse anyway, without uploading it.
  function check(zone, files) {
    if (!files || files.length === 0) {
      say(zone, "No file was dropped. Drop the E-ZPass export (CSV or Excel).", true);
      return false;
    }
    if (files.length > 1) {
      say(zone, "Drop one file at a time.", true);
      return false;
    }
    var max = parseInt(zone.getAttribute("data-max-bytes"), 10);
    if (max > 0 && files[0].size > max) {
      say(zone, "The file is " + mb(files[0].size) + "; the limit is " + zone.getAttribute("data-max-mb") +
        " MB (MAX_UPLOAD_MB). Split the export by month and upload each part.", true);
      return false;
    }
    return true;
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    }
  }

  document.addEventListener("dragenter", function (ev) {
    var zone = zoneOf(ev.target);
    if (!zone) return;
    ev.preventDefault();
    zone.setAttribute("data-dragging", "true");
  });

  document.addEventListener("dragover", function (ev) {
    var zone = zoneOf(ev.target);
    if (!zone) return;
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = "copy";
    zone.setAttribute("data-dragging", "true");
  });

  document.addEventListener("dragleave", function (ev) {
    var zone = zoneOf(ev.target);
    if (!zone) return;
    if (!ev.relatedTarget || !zone.contains(ev.relatedTarget)) zone.removeAttribute("data-dragging");
  });

  document.addEventListener("drop", function (ev) {
    var zone = zoneOf(ev.target);
    if (!zone) return;
    ev.preventDefault();
    zone.removeAttribute("data-dragging");
    var files = ev.dataTransfer ? ev.dataTransfer.files : null;
    if (!check(zone, files)) return;
    var input = zone.querySelector('input[type="file"]');
    var form = zone.closest("form");
    if (!input || !form) return;
    input.files = files;
    say(zone, "Uploading " + files[0].name + "…", false);
    submit(form);
  });

  // A file chosen with the picker is checked at once.
  document.addEventListener("change", function (ev) {
    var zone = zoneOf(ev.target);
    if (!zone || ev.target.type !== "file") return;
    if (!check(zone, ev.target.files)) {
      ev.target.value = "";
      return;
    }
    say(zone, "Ready to import " + ev.target.files[0].name + ".", false);
  });

  // Upload progress while the browser sends the file.
  document.addEventListener("htmx:xhr:progress", function (ev) {
    var form = ev.target.closest ? ev.target.closest("#upload-form") : null;
    if (!form || !ev.detail || !ev.detail.lengthComputable) return;
    var zone = form.querySelector("[data-dropzone]");
    if (zone) say(zone, "Uploading… " + Math.round((100 * ev.detail.loaded) / ev.detail.total) + " %", false);
  });

  // Refusals (same file twice, too large, bad input) are shown in place.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail;
    if (!d || !d.requestConfig || !d.requestConfig.elt || d.requestConfig.elt.id !== "upload-form") return;
    if ([400, 409, 413, 422].indexOf(d.xhr.status) >= 0) {
      d.shouldSwap = true;
      d.isError = false;
    }
  });

  // After an upload, clear the picker for the next file.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var form = ev.target;
    if (!form || form.id !== "upload-form") return;
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector('input[type="file"]');
    if (input) input.value = "";
    if (zone) {
      var s = statusOf(zone);
      if (s && s.getAttribute("data-error") !== "true") {
        s.textContent = "";
        s.classList.add("hidden");
      }
    }
  });
})();
