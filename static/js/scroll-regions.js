// A table wider than its box scrolls sideways in it (Bootstrap's .table-responsive). While
// it does, the box takes the keyboard's focus, so arrow keys scroll it, and is a region
// named by its table's caption (or its section's heading), so a screen reader says what it is. A box that fits is left
// alone: no stop for the Tab key that does nothing.
(function () {
  "use strict";
  var named = 0;
  function update(box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption");
      var section = box.closest("[aria-labelledby]");
      if (caption) {
        if (!caption.id) { caption.id = "scroll-region-" + (named += 1); }
        box.setAttribute("aria-labelledby", caption.id);
      } else if (section) {
        box.setAttribute("aria-labelledby", section.getAttribute("aria-labelledby"));
      }
    } else if (box.hasAttribute("tabindex")) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-labelledby");
    }
  }
  var boxes = document.querySelectorAll(".table-responsive");
  boxes.forEach(update);
  if ("ResizeObserver" in window) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target); });
    });
    boxes.forEach(function (box) { observer.observe(box); });
  }
})();
