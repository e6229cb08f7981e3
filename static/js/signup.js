// Sign-up: show only the organization part that matches the chosen option. Without
// scripts both parts stay visible and the server ignores the one not chosen.
(function () {
  "use strict";
  var radios = document.querySelectorAll("input[data-organization-mode]");
  var parts = document.querySelectorAll("[data-organization-part]");
  function update() {
    var chosen = document.querySelector("input[data-organization-mode]:checked");
    parts.forEach(function (part) {
      part.hidden = chosen !== null && part.getAttribute("data-organization-part") !== chosen.value;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", update); });
  update();
})();
