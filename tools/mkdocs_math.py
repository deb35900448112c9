r"""mkdocs hook: every formula of the site rendered at build time by KaTeX (mkdocs.yml ``hooks``).

The built pages carry typeset math (KaTeX's HTML, plus MathML for screen readers): no math
JavaScript is loaded and no TeX is left for the browser. Where the formulas are:

* **arithmatex elements** (Markdown pages and the API reference, ``generic: true``): a
  ``<span class="arithmatex">`` holding ``\(...\)`` or a ``<div class="arithmatex">`` holding
  ``\[...\]``;
* **notebook markdown cells** (``.jp-RenderedMarkdown``), where nbconvert leaves the TeX raw:
  ``$$...$$``, ``\[...\]`` and ``\begin{env}...\end{env}`` (display), ``\(...\)`` and
  ``$...$`` (inline), with ``\$`` a literal dollar sign. ``<code>`` and ``<pre>`` are skipped,
  so a dollar sign in code stays one, and cell outputs are never searched;
* **the table of contents** of a notebook page, whose entries repeat the headings' TeX.

The search index, which mkdocs-material's plugin writes from the pages before their math is
rendered, gets each formula as plain text instead of TeX (``formula_text``, by pylatexenc).

KaTeX runs in one Node.js process per build (tools/katex_render.js; the version is pinned in
package-lock.json, installed by ``make``). A formula that KaTeX cannot parse, or reads in
strict mode as something other than what was written, is a warning naming the page and the
formula, so ``mkdocs build --strict`` fails. The stylesheet and its fonts (woff2, which every
current browser reads) are copied from node_modules/katex to assets/katex/ on the site.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.lsm.math")

ROOT = Path(__file__).resolve().parent.parent
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = Path(__file__).with_name("katex_render.js")
ASSETS = "assets/katex"
STYLESHEET = f"{ASSETS}/katex.min.css"


class KaTeX:
    """A Node.js process running tools/katex_render.js: ``render(tex, display)`` gives
    ``(html, None)`` or ``(None, error message)``. Each formula is rendered once per build."""

    def __init__(self):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the site's math is rendered by KaTeX with Node.js: install Node.js 18 or newer")
        if not KATEX_DIST.is_dir():
            raise RuntimeError(f"{KATEX_DIST} is missing: run `npm ci` (make does) to install KaTeX")
        self._process = subprocess.Popen(
            [node, str(RENDERER)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )
        self._cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        key = (tex, display)
        if key not in self._cache:
            self._process.stdin.write(json.dumps([tex, display]) + "\n")
            self._process.stdin.flush()
            self._cache[key] = tuple(json.loads(self._process.stdout.readline()))
        return self._cache[key]

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=10)


_katex: KaTeX | None = None


def katex() -> KaTeX:
    global _katex
    if _katex is None:
        _katex = KaTeX()
    return _katex


# -- finding the formulas --------------------------------------------------------------------
# MathJax's TeX delimiters, earliest start first; an escaped dollar is text.
_TEX = re.compile(
    r"(?P<dollar>\\\$)"
    r"|\$\$(?P<dd>.+?)\$\$"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[a-zA-Z*]+)\}.+?\\end\{(?P=name)\})"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|\$(?P<d>[^$]+?)\$",
    re.S,
)
# Inside a markdown cell: code and preformatted blocks stay as they are, tags too.
_NOT_TEXT = re.compile(r"(<pre\b[^>]*>.*?</pre>|<code\b[^>]*>.*?</code>|<[^>]*>)", re.S)
_MARKDOWN_CELL = re.compile(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>')
_DIV = re.compile(r"<div\b|</div>")


def _markdown_cells(page_html: str):
    """(start, end) of each markdown cell's content: up to its own </div>, past nested divs (a
    fenced code block in a cell is a <div class="highlight">)."""
    for opening in _MARKDOWN_CELL.finditer(page_html):
        depth = 1
        for tag in _DIV.finditer(page_html, opening.end()):
            depth += 1 if tag.group(0) == "<div" else -1
            if depth == 0:
                yield opening.end(), tag.start()
                break
_TOC_ENTRY = re.compile(r'(<a href="#[^"]*" class="md-nav__link">\s*<span class="md-ellipsis">)(.*?)(</span>)', re.S)
_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])\s*</(?P=tag)>', re.S
)


class _Page:
    """The formulas of one page, rendered; ``failures`` lists what KaTeX refused."""

    def __init__(self, name: str):
        self.name, self.count, self.failures = name, 0, []

    def render(self, escaped_tex: str, display: bool, original: str | None) -> str | None:
        """KaTeX's HTML for the (HTML-escaped) TeX, or ``original`` where KaTeX refuses it."""
        tex = html.unescape(escaped_tex).strip()
        rendered, error = katex().render(tex, display)
        self.count += 1
        if error is not None:
            self.failures.append(error)
            log.warning("%s: KaTeX cannot render %r: %s", self.name, tex[:120], error)
            return original
        return rendered

    def text(self, segment: str) -> str:
        def one(match: re.Match) -> str:
            if match.group("dollar"):
                return "$"
            display_tex = match.group("dd") or match.group("bracket") or match.group("env")
            if display_tex is not None:
                return self.render(display_tex, True, match.group(0))
            return self.render(match.group("paren") or match.group("d"), False, match.group(0))

        return _TEX.sub(one, segment)

    def markdown_cell(self, cell_html: str) -> str:
        parts = _NOT_TEXT.split(cell_html)  # text, tag/code, text, ...
        return "".join(part if i % 2 else self.text(part) for i, part in enumerate(parts))

    def arithmatex(self, match: re.Match) -> str:
        display = match.group("display") is not None
        rendered = self.render(match.group("display" if display else "inline"), display, None)
        if rendered is None:
            return match.group(0)
        return f'<{match.group("tag")} class="arithmatex">{rendered}</{match.group("tag")}>'


def render_math(page_html: str, name: str, notebook: bool) -> tuple[str, int]:
    """The page with every formula rendered, and how many it rendered (the table of contents'
    copies of headings included)."""
    page = _Page(name)
    page_html = _ARITHMATEX.sub(page.arithmatex, page_html)
    if notebook:
        pieces, done = [], 0
        for start, end in _markdown_cells(page_html):
            pieces += [page_html[done:start], page.markdown_cell(page_html[start:end])]
            done = end
        page_html = "".join(pieces) + page_html[done:]
        page_html = _TOC_ENTRY.sub(lambda m: m.group(1) + page.text(m.group(2)) + m.group(3), page_html)
    return page_html, page.count


# -- the search index: each formula as plain text ------------------------------------------------
# mkdocs-material's search plugin indexes the pages before their math is rendered, so its
# snippets would show TeX ("\operatorname{softmax}(x)_i"). After the build each formula of the
# index becomes text a reader can read and a query can match, by pylatexenc:
# "s_i = softmax(x)_i = e^{x_i} / ∑_j e^{x_j}". Braces stay around groups of two or more characters
# (2^{p+1} is not 2^p+1), a fraction is (a)/(b), and sizing commands are dropped.
_TAKES_ARGUMENTS = {"frac", "tfrac", "dfrac", "sqrt", "operatorname", "text", "texttt", "textrm", "mathrm",
                    "mathbin", "mathit", "mathbf", "boldsymbol", "begin", "end"}  # fmt: skip
_NAMED = ("log", "exp", "max", "min", "lim", "ln", "sup", "inf", "arg", "det", "sin", "cos", "tanh", "sign")
_SIZING = ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle")
_SPACE_AFTER_MACRO = re.compile(r"\\([A-Za-z]+)(?=\s)")


@functools.cache
def _converter():
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    text = get_default_latex_context_db()
    text.add_context_category("lsm", prepend=True, macros=[
        *(MacroTextSpec(name, name) for name in _NAMED),
        *(MacroTextSpec(name, "") for name in _SIZING),
        *(MacroTextSpec(name, simplify_repl="(%(1)s)/(%(2)s)") for name in ("frac", "tfrac", "dfrac")),
        *(MacroTextSpec(name, simplify_repl="%(1)s") for name in sorted(_TAKES_ARGUMENTS - {"frac", "tfrac", "dfrac", "sqrt", "begin", "end"})),
        MacroTextSpec("ne", "≠"), MacroTextSpec("quad", " "), MacroTextSpec("qquad", "  "),
    ])  # fmt: skip
    parsing = latexwalker.get_default_latex_context_db()
    parsing.add_context_category("lsm", prepend=True, macros=[
        macrospec.MacroSpec(name, "{{" if name in ("frac", "tfrac", "dfrac") else "{")
        for name in _TAKES_ARGUMENTS - {"sqrt", "begin", "end"}
    ])  # fmt: skip
    to_text = LatexNodes2Text(math_mode="text", latex_context=text, keep_braced_groups=True, keep_braced_groups_minlen=2)
    return latexwalker, parsing, to_text


def formula_text(tex: str) -> str:
    """A formula's TeX as one line of plain text (Unicode symbols, TeX's sub- and superscripts)."""
    latexwalker, parsing, to_text = _converter()
    # A space after a command without arguments is the writer's ("\log D", "\epsilon = 2u"), which
    # TeX drops: an empty group after the command keeps it.
    tex = _SPACE_AFTER_MACRO.sub(lambda m: m.group(0) if m.group(1) in _TAKES_ARGUMENTS else m.group(0) + "{}", tex)
    nodes, _, _ = latexwalker.LatexWalker(tex, latex_context=parsing, tolerant_parsing=True).get_latex_nodes()
    return re.sub(r"\s+", " ", to_text.nodelist_to_text(nodes)).strip()


def _text_of_formulas(segment: str) -> str:
    """An index entry's HTML with the TeX of each formula outside code replaced by its text."""

    def one(match: re.Match) -> str:
        if match.group("dollar"):
            return "$"
        tex = next(group for group in match.group("dd", "bracket", "env", "paren", "d") if group is not None)
        return html.escape(formula_text(html.unescape(tex)), quote=False)

    parts = _INDEX_NOT_TEXT.split(segment)
    return "".join(part if i % 2 else _TEX.sub(one, part) for i, part in enumerate(parts))


# As _NOT_TEXT, but an index entry can end inside a code block (the plugin cuts at headings).
_INDEX_NOT_TEXT = re.compile(r"(<pre\b[^>]*>.*?(?:</pre>|$)|<code\b[^>]*>.*?</code>|<[^>]*>)", re.S)


def search_index_without_tex(site_dir: Path) -> None:
    path = site_dir / "search" / "search_index.json"
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index["docs"]:
        doc["title"] = _text_of_formulas(doc["title"])
        doc["text"] = _text_of_formulas(doc["text"])
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# -- events ------------------------------------------------------------------------------------
def on_config(config):
    if STYLESHEET not in config.extra_css:
        config.extra_css.insert(0, STYLESHEET)
    return config


def on_files(files, config):
    """KaTeX's stylesheet and woff2 fonts, from node_modules, published under assets/katex/."""
    sources = [KATEX_DIST / "katex.min.css", *sorted((KATEX_DIST / "fonts").glob("*.woff2"))]
    for source in sources:
        uri = f"{ASSETS}/{source.relative_to(KATEX_DIST).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_post_page(output, page, config):
    output, _ = render_math(output, page.file.src_uri, page.file.src_uri.endswith(".ipynb"))
    return output


def on_post_build(config):
    search_index_without_tex(Path(config.site_dir))  # hooks run after the plugins: the index is written


def on_shutdown():
    global _katex
    if _katex is not None:
        _katex.close()
        _katex = None
