// A data table wider than a narrow screen scrolls sideways inside its own box
// (base.css); such a box must take keyboard focus, or keyboard users cannot scroll
// it (WCAG 2.1.1). Marked when it overflows, unmarked when the window grows again.
(function () {
  "use strict";
  function label(table) {
    var caption = table.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    var heading = table.previousElementSibling;
    while (heading && !/^H[1-6]$/.test(heading.tagName)) { heading = heading.previousElementSibling; }
    return heading ? heading.textContent.trim() : "";
  }
  function mark() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
        if (!table.hasAttribute("aria-label") && label(table)) {
          table.setAttribute("aria-label", label(table));
        }
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
