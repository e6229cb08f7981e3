// The join link's countdown page: counts down to the moment the link opens, and shows
// the start in the browser's own zone. A file, not an inline script, so the
// Content-Security-Policy can stay script-src 'self'; without it the page still says
// when to come back.
(function () {
  "use strict";

  document.querySelectorAll("[data-browser-time]").forEach(function (cell) {
    var at = new Date(cell.getAttribute("data-browser-time"));
    if (isNaN(at.getTime())) { return; }
    try {
      cell.textContent = new Intl.DateTimeFormat(undefined, {
        weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      }).format(at) + " (" + Intl.DateTimeFormat().resolvedOptions().timeZone + ")";
    } catch (error) {
      return;
    }
    cell.hidden = false;
    var label = cell.previousElementSibling;
    if (label && label.hasAttribute("data-browser-time-label")) { label.hidden = false; }
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function left(ms) {
    var seconds = Math.floor(ms / 1000);
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) +
      ":" + pad(rest % 60);
    return (days > 0 ? days + " d " : "") + clock;
  }

  document.querySelectorAll("[data-countdown-to]").forEach(function (line) {
    var target = new Date(line.getAttribute("data-countdown-to")).getTime();
    if (isNaN(target)) { return; }
    var prefix = line.getAttribute("data-countdown-prefix") || "";
    var timer;
    function tick() {
      var ms = target - Date.now();
      if (ms <= 0) {
        window.clearInterval(timer);
        line.textContent = line.getAttribute("data-countdown-open-label");
        return;
      }
      line.textContent = prefix + left(ms);
    }
    line.setAttribute("aria-live", "off");
    tick();
    timer = window.setInterval(tick, 1000);
  });
})();
