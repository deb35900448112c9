// Typesets the page's math once, offline, with the MathJax copy in docs/vendor/mathjax/
// (version and provenance: docs/vendor/mathjax/SOURCE.txt). No request leaves the site.
//
// What gets typeset: the math that pymdownx.arithmatex wraps on Markdown pages and in the API
// reference (class "arithmatex", \( \) and \[ \] delimiters), and the $...$ / $$...$$ that
// mkdocs-jupyter leaves raw in notebook markdown cells (class "jp-RenderedMarkdown") and LaTeX
// outputs ("jp-RenderedLatex"). Nothing else is searched, so a "$" in code or in a cell's
// printed output stays a dollar sign; inside those elements <code> and <pre> are skipped.
//
// One pass per page load: material's instant navigation is off (mkdocs.yml), so there is no
// page switch to re-typeset on, and nothing else calls MathJax. The tex-chtml-full component
// already contains every TeX extension (\boldsymbol, \cancel, ...), so nothing is autoloaded.
// When typesetting has finished, <html data-lsm-math="done"> (or "none": no math container
// on the page); tests/test_site.py waits for it.
(function () {
  "use strict";
  var root = document.documentElement;
  var selector = ".arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex";
  if (!document.querySelector(selector)) {
    root.setAttribute("data-lsm-math", "none");
    return;
  }
  var base = new URL("../vendor/mathjax/", document.currentScript.src).href;
  window.MathJax = {
    loader: { paths: { mathjax: base.replace(/\/$/, "") } },
    tex: {
      inlineMath: [["\\(", "\\)"], ["$", "$"]],
      displayMath: [["\\[", "\\]"], ["$$", "$$"]],
      processEscapes: true,
      processEnvironments: true,
      // Errors must show as errors (an merror box), never as quietly reprinted source.
      packages: { "[-]": ["noerrors", "noundefined"] },
    },
    chtml: { fontURL: base + "output/chtml/fonts/woff-v2" },
    startup: {
      // Only these elements are searched for math (the typeset runs once, at startup). Not
      // material's ignoreHtmlClass ".*|" recipe: that ignores every element inside a processed
      // one too, i.e. the <p> that hold a notebook cell's math.
      elements: [selector],
      ready: function () {
        MathJax.startup.defaultReady();
        MathJax.startup.promise.then(
          function () { root.setAttribute("data-lsm-math", "done"); },
          function (error) { root.setAttribute("data-lsm-math", "failed"); console.error(error); }
        );
      },
    },
  };
  var script = document.createElement("script");
  script.src = base + "tex-chtml-full.js";
  script.async = true;
  document.head.appendChild(script);
})();
