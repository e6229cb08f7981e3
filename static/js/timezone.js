// Fills inputs marked data-browser-timezone with the browser's IANA zone
// ("Europe/Brussels"), so times can be shown in the user's own zone. The server checks
// the name and falls back to UTC when it is empty.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) { return; }
  document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
    if (!input.value) { input.value = zone; }
  });
})();
