// The browser's IANA zone ("Europe/Copenhagen"), so times can be shown in the person's
// own zone. It fills inputs marked data-browser-timezone (sign-up, quick registration:
// empty means "as my browser says"), and where a page asks for it (a signed-in person
// whose zone is not known yet: this script's tag carries data-zone-url and
// data-csrf-token) it reports the zone once. The server checks the name and keeps any
// zone already set; the next page shows times in it.
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

  var tag = document.querySelector("script[data-zone-url]");
  if (!tag) { return; }
  // Once per browser session: a zone the server refused is not sent on every page.
  var sent = "beachhead.zone-reported";
  try {
    if (window.sessionStorage.getItem(sent) === zone) { return; }
    window.sessionStorage.setItem(sent, zone);
  } catch (error) {
    // Storage switched off: the server still writes only while no zone is stored.
  }
  var body = new URLSearchParams();
  body.set("timezone", zone);
  body.set("csrf_token", tag.getAttribute("data-csrf-token"));
  fetch(tag.getAttribute("data-zone-url"), {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: { "Accept": "application/json" }
  }).catch(function () {
    // Offline or the server away: try again on a later page.
    try { window.sessionStorage.removeItem(sent); } catch (error) { /* nothing kept */ }
  });
})();
