// Renders TeX to HTML with KaTeX, for tools/mkdocs_math.py: one process per site build.
//
// Reads one JSON array per line on stdin, [tex, display], and writes one JSON array per line
// on stdout, [html, null] or [null, message]. Errors are errors: throwOnError and strict mode,
// so that TeX which KaTeX reads differently from what was written stops the build instead of
// reaching a page. The output is KaTeX's HTML (what the reader sees) and MathML (what a screen
// reader reads), styled by katex.min.css and its fonts, which the build copies to the site.
"use strict";
const katex = require("katex");
const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  const [tex, display] = JSON.parse(line);
  let answer;
  try {
    answer = [katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" }), null];
  } catch (error) {
    answer = [null, String(error.message || error)];
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
