/* The course's one script: what is wider than the text column is drawn smaller until it fits,
   instead of hiding its right-hand part in a scroll box (on paper, cut off). MathJax 3 does
   not break formulas into lines, and a table of numbers cannot wrap them; on a phone the
   column is 300-odd pixels. Formulas are scaled through their font size and tables by CSS
   zoom, so that both stay text (selectable, searchable, sharp). Run once MathJax has typeset
   the page, and again whenever the column's width changes (a phone turned, a window
   resized, printing). */
(function () {
  "use strict";

  var WIDE = 'article table, article mjx-container';

  /* The width ``element`` may take: its own box for a displayed formula (a block), the
     content box of the block around an inline formula or a table, and never past the
     column's right edge. */
  function room(element) {
    if (element.getAttribute("display") === "true") return element.clientWidth;
    var block = element.tagName === "TABLE" ? element.parentElement
      : element.parentElement.closest("p, li, dd, dt, td, th, figcaption, div, section");
    if (!block) return 0;
    var style = getComputedStyle(block);
    var inside = block.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var column = document.querySelector("article").getBoundingClientRect().right;
    return Math.min(inside, column - element.getBoundingClientRect().left);
  }

  function need(element) {
    return element.getAttribute("display") === "true"
      ? element.scrollWidth : element.getBoundingClientRect().width;
  }

  function fit() {
    var all = Array.prototype.slice.call(document.querySelectorAll(WIDE));
    // Undo earlier fitting first, then measure everything, then write: one layout pass.
    all.forEach(function (element) {
      if (element.tagName === "TABLE") element.style.zoom = "";
      else if (element.dataset.courseSize !== undefined) {
        element.style.fontSize = element.dataset.courseSize;
      }
    });
    var scales = all.map(function (element) {
      var available = room(element), wanted = need(element);
      return available > 0 && wanted > available + 1 ? available / wanted : 1;
    });
    all.forEach(function (element, i) {
      if (scales[i] === 1) return;
      if (element.tagName === "TABLE") {
        // Tables are zoomed: their cells set their own font sizes, which font-size would miss.
        element.style.zoom = (0.98 * scales[i]).toFixed(3);
        return;
      }
      if (element.dataset.courseSize === undefined) {
        element.dataset.courseSize = element.style.fontSize;
      }
      var size = element.dataset.courseSize || "100%";
      // A little below the exact ratio: text widths do not scale exactly linearly.
      element.style.fontSize = "calc(" + size + " * " + (0.96 * scales[i]).toFixed(3) + ")";
    });
  }

  function start() {
    var typeset = window.MathJax && MathJax.startup && MathJax.startup.promise
      ? MathJax.startup.promise : Promise.resolve();
    typeset.then(function () {
      fit();
      var article = document.querySelector("article");
      if (article && window.ResizeObserver) new ResizeObserver(fit).observe(article);
      window.addEventListener("beforeprint", fit);
      window.addEventListener("afterprint", fit);
      window.matchMedia("print").addEventListener("change", fit);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
