/* The search page's adjustments to Sphinx 7.4's search (searchtools.js, loaded before this):
   - a result's snippet is the page's prose: code cells, their outputs and buttons are left
     out, and a formula reads as text ("θ", not "\(\theta\)");
   - one result per page, its best-scoring one (a page matched by a section title and by
     its text was listed twice);
   - each term as typed is highlighted whole (Japanese queries are split into shorter words
     for the index, and the highlight covered only those parts);
   - the language switch opens the other edition's search page with the same query. */
(function () {
  "use strict";
  if (typeof Search === "undefined") return;

  var SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η",
    theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ",
    psi: "ψ", omega: "ω", Delta: "Δ", Sigma: "Σ", Theta: "Θ", partial: "∂", nabla: "∇",
    cdot: "·", times: "×", top: "⊤", sum: "∑", prod: "∏", ell: "ℓ", approx: "≈", le: "≤",
    leq: "≤", ge: "≥", geq: "≥", neq: "≠", ne: "≠", to: "→", rightarrow: "→", in: "∈",
    infty: "∞", ldots: "…", cdots: "⋯", dots: "…", sqrt: "√", pm: "±", mid: "|",
    lVert: "‖", rVert: "‖", Vert: "‖", odot: "⊙", log: "log", exp: "exp", ln: "ln",
    max: "max", min: "min", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉",
  };

  /* A formula's TeX as plain text: delimiters off, symbols as characters, fractions as a/b,
     markup commands (\mathbf, \left, ...) dropped with their braces. */
  function plainMaths(tex) {
    return tex
      .replace(/^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$/g, "")
      .replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "$1/$2")
      .replace(/\\mathbb\s*\{R\}/g, "ℝ")
      .replace(/\\([A-Za-z]+)/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : "";
      })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }

  var LEFT_OUT = ".headerlink, script, style, .cell_input, .cell_output, div.highlight, "
    + "button, details.hide > summary";

  Search.htmlToText = function (htmlString, anchor) {
    var page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(LEFT_OUT).forEach(function (element) { element.remove(); });
    page.querySelectorAll(".math").forEach(function (formula) {
      formula.replaceWith(page.createTextNode(plainMaths(formula.textContent)));
    });
    // The article only: the main area also holds the header's buttons and the contents.
    var main = page.querySelector('[role="main"] article') || page.querySelector('[role="main"]');
    if (!main) return "";
    var part = null;
    try { part = anchor ? main.querySelector(anchor) : null; } catch (error) { part = null; }
    return (part || main).textContent.replace(/\s+/g, " ");
  };

  var performSearch = Search._performSearch;
  Search._performSearch = function () {
    var results = performSearch.apply(Search, arguments);
    // Shown from the end (best first): keep each page's last, best-scoring entry.
    var seen = new Set(), kept = [];
    for (var i = results.length - 1; i >= 0; i--) {
      if (!seen.has(results[i][0])) {
        seen.add(results[i][0]);
        kept.unshift(results[i]);
      }
    }
    return kept;
  };

  var parseQuery = Search._parseQuery;
  Search._parseQuery = function (query) {
    var parsed = parseQuery.call(Search, query);
    var whole = new Set(query.toLowerCase().trim().split(/\s+/).filter(function (term) {
      return term && term[0] !== "-";
    }));
    parsed[3].forEach(function (term) { whole.add(term); });
    parsed[3] = whole;  // the whole terms first: their parts then find them highlighted
    return parsed;
  };

  document.addEventListener("DOMContentLoaded", function () {
    var query = new URLSearchParams(window.location.search).get("q");
    var switcher = document.querySelector("a.course-language-switch");
    if (query && switcher) {
      var target = new URL(switcher.getAttribute("href"), window.location.href);
      target.searchParams.set("q", query);
      switcher.setAttribute("href", target.href);
    }
  });
})();
