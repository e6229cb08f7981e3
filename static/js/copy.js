// "Copy" buttons: <button data-copy-from="input-id"> copies that input's value. A file,
// not an inline script, so the Content-Security-Policy can stay script-src 'self'.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy-from"));
      if (!input) { return; }
      var done = function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied-label") || label;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done);
      } else {
        // Plain http (local development): the older selection-based copy still works.
        input.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
