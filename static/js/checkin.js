// The camera of a badge scanner (the door's check-in, the tables' meetings): reads a
// badge's QR code into the form's code field (the form's data-badge-input names it) and
// submits the form with it; templates/checkin/_camera.html is its markup.
// The browser's own BarcodeDetector where it has one, jsQR (static/vendor/jsqr) otherwise.
// Without a camera, or without JavaScript, staff type the printed code into the same form.
(function () {
  "use strict";
  var form = document.querySelector("form[data-badge-input]");
  var button = document.getElementById("camera-start");
  var section = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var codeInput = form && document.getElementById(form.getAttribute("data-badge-input"));
  if (!form || !button || !video || !codeInput) { return; }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  button.hidden = false;

  // Each scanner remembers its own camera: the door's left on does not open the tables'.
  var REMEMBER = "beachhead." + form.id + ".camera";
  var SENT = "beachhead." + form.id + ".sent";
  // The badge just sent is usually still in front of the camera when the result page
  // opens: it counts again only after it has been out of view for a moment, so its result
  // stays on screen instead of turning into "Already checked in" a second later.
  var GONE_MS = 1500;
  var justSent = sessionStorage.getItem(SENT);
  var justSentSeenAt = Date.now();
  sessionStorage.removeItem(SENT);
  var stream = null;
  var detector = null;
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  function makeDetector() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0
        ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  }

  function decodeWithJsQR() {
    if (typeof window.jsQR !== "function" || !video.videoWidth) { return null; }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height,
                            { inversionAttempts: "dontInvert" });
    return found ? found.data : null;
  }

  // Whether `text` was sent; the badge just checked in is not sent again while in view.
  function found(text) {
    if (justSent !== null && text === justSent) {
      justSentSeenAt = Date.now();
      return false;
    }
    justSent = null;
    sessionStorage.setItem(SENT, text);
    codeInput.value = text;
    status.textContent = button.getAttribute("data-start-label");
    stop(true);
    form.requestSubmit ? form.requestSubmit() : form.submit();
    return true;
  }

  function nothingFound() {
    if (justSent !== null && Date.now() - justSentSeenAt > GONE_MS) { justSent = null; }
  }

  function scan() {
    if (!stream) { return; }
    var next = function () { window.requestAnimationFrame(scan); };
    if (video.readyState < 2) { next(); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length && found(codes[0].rawValue)) { return; }
        if (!codes.length) { nothingFound(); }
        next();
      }).catch(next);
      return;
    }
    var text = decodeWithJsQR();
    if (text && found(text)) { return; }
    if (!text) { nothingFound(); }
    window.setTimeout(next, 120);
  }

  function start() {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        section.hidden = false;
        button.textContent = button.getAttribute("data-stop-label");
        sessionStorage.setItem(REMEMBER, "on");
        return video.play();
      })
      .then(makeDetector)
      .then(function (made) { detector = made; scan(); })
      .catch(function () {
        stop(false);
        button.textContent = button.getAttribute("data-unavailable-label");
        button.disabled = true;
      });
  }

  // `keep`: the camera goes off only while the form is sent, and comes back on the
  // next page, ready for the next badge in the queue.
  function stop(keep) {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    section.hidden = true;
    button.textContent = button.getAttribute("data-start-label");
    if (!keep) { sessionStorage.removeItem(REMEMBER); }
  }

  button.addEventListener("click", function () { if (stream) { stop(false); } else { start(); } });
  if (sessionStorage.getItem(REMEMBER) === "on") { start(); }
})();
