// A background job's progress (a badge batch, a download): polls its progress URL until
// it is done (a download says "ready") or failed, advancing the <progress> bar and
// offering the file. Without JavaScript the page says to reload it; the server renders
// the same state.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  var script = document.currentScript;
  if (!box || !script) { return; }
  var bar = document.getElementById("batch-progress");
  var status = document.getElementById("batch-status");
  var download = document.getElementById("batch-download");
  var progressLabel = script.getAttribute("data-progress-label");
  var doneLabel = script.getAttribute("data-done-label");

  function show(state) {
    bar.max = state.total;
    bar.value = state.done;
    // As the page's language writes a percentage ("85%", "85 %"), like the server does.
    bar.textContent = (state.percent / 100).toLocaleString(
      document.documentElement.lang || undefined, { style: "percent" });
    box.setAttribute("data-status", state.status);
    var finished = state.status === "done" || state.status === "ready";
    if (finished) {
      status.textContent = doneLabel;
      if (state.download_url) {
        download.querySelector("a").href = state.download_url;
        download.hidden = false;
      }
    } else if (state.status === "failed") {
      status.textContent = state.error;
      var again = document.getElementById("batch-again");
      if (again) { again.hidden = false; }
    } else {
      status.textContent = progressLabel
        .replace("%(done)s", state.done).replace("%(total)s", state.total);
    }
    return finished || state.status === "failed";
  }

  function poll() {
    fetch(box.getAttribute("data-progress-url"), {
      headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (state) { if (!show(state)) { window.setTimeout(poll, 500); } })
      .catch(function () { window.setTimeout(poll, 2000); });
  }

  var initial = box.getAttribute("data-status");
  if (initial !== "done" && initial !== "ready" && initial !== "failed") { poll(); }
})();
