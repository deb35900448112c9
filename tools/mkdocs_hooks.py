"""mkdocs hooks for the lsm site (mkdocs.yml: ``hooks: [tools/mkdocs_hooks.py]``).

1. Navigation. The "Notebooks" section of ``nav`` is filled with every ``notebooks/*.ipynb``
   present, in file-name order, each titled by its notebook's first ``# `` heading. A new
   notebook cannot be left out of the site, and a planned one that does not exist yet cannot
   break ``mkdocs build --strict``.
2. Home page. The reading order on ``index.md`` links each notebook; the hook sets each link's
   text to the notebook's own heading, shows a planned notebook that does not exist yet as plain
   text, and fails the strict build (a warning) when a notebook is missing from the list.
3. Docstrings. lsm's docstrings use reStructuredText math (``.. math::`` blocks and
   ``:math:`...``` roles) and Sphinx cross-references (``:func:`log_softmax```), which Markdown
   would print literally. A Markdown preprocessor rewrites them, before anything else, into
   pymdownx.arithmatex math (rendered by tools/mkdocs_math.py) and mkdocs-autorefs links, so the docstrings stay
   valid reST for ``help()`` and Sphinx and also render on the site.
4. Notebook pages. Links between notebooks and to docs pages are written as files
   (``03_max_shift.ipynb#infinite-maxima``, ``../docs/notation.md``) so that they work in Jupyter;
   the hook points them at the built pages, and a link to no page fails the strict build.
   nbconvert's template adds a MathJax 2 configuration, an empty ``<script src="">``
   and a loader that would import mermaid from a CDN, and mkdocs-jupyter a ``<style>`` that holds
   a Python list's repr instead of CSS. The site renders its math at build time
   (tools/mkdocs_math.py), and no request may leave the site, so they are removed.
   The same template inlines about 590 kB of identical JupyterLab CSS into every notebook page;
   it goes to one shared, cacheable file (assets/notebook-<hash>.css) linked from the same spot,
   so the cascade is unchanged and each page is about 80% smaller.
5. Plots. nbconvert embeds each plot as a base64 data: URI; each becomes a file beside its page
   (``plot-<hash>.png``), cached by the browser and linked by mkdocs-glightbox's lightbox.
6. Unused notebook CSS. Of that CSS the pages use about 3% (575 kB to 15 kB): after the build, PurgeCSS
   (package.json) keeps the rules whose selectors name only classes, ids and elements that occur
   in the built pages or in the scripts that add classes at run time (mkdocs-material's bundle
   wraps tables in ``md-typeset__scrollwrap``), and the custom properties those rules use. Each
   file is then named by the hash of what it holds, so a browser never keeps a stale copy.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
import textwrap
from html import escape
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.lsm")
# The search plugin segments Chinese text with jieba, which announces building its dictionary
# on every build at INFO level; only its warnings are worth a line of the build log.
logging.getLogger("jieba").setLevel(logging.WARNING)

NOTEBOOKS_SECTION = "Notebooks"
NOTEBOOK_DIR = "notebooks"

# {"notebooks/01_softmax.ipynb": "1. Softmax from its definition", ...}, set by on_config.
_notebooks: dict[str, str] = {}


# -- 1. navigation ---------------------------------------------------------------------------
def notebook_title(path: Path) -> str | None:
    """The text of the first level-1 heading in the notebook's markdown cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            match = re.match(r"#\s+(.+?)\s*#*\s*$", line)
            if match:
                return match.group(1)
    return None


def find_notebooks(docs_dir: Path) -> dict[str, str]:
    found = {}
    for path in sorted((docs_dir / NOTEBOOK_DIR).glob("*.ipynb")):
        src = f"{NOTEBOOK_DIR}/{path.name}"
        try:
            title = notebook_title(path)
        except (OSError, ValueError) as error:
            log.warning("%s cannot be read as a notebook: %s", src, error)
            title = None
        if title is None:
            log.warning("%s has no '# ' heading in its markdown cells to title its page", src)
            title = path.stem
        found[src] = title
    return found


def fill_nav_section(nav: list, notebooks: dict[str, str]) -> bool:
    for item in nav:
        if isinstance(item, dict) and NOTEBOOKS_SECTION in item:
            item[NOTEBOOKS_SECTION] = [{title: src} for src, title in notebooks.items()]
            return True
    return False


# -- 3. reST math and cross-references in docstrings -------------------------------------------
def public_api(package_dir: Path) -> dict[str, str]:
    """{public name: the path where mkdocstrings documents it}, from lsm/__init__.py.

    ``from .softmax import softmax`` gives ``{"softmax": "lsm.softmax.softmax"}``. Read with ast,
    so the build does not import torch.
    """
    tree = ast.parse((package_dir / "__init__.py").read_text(encoding="utf-8"))
    package = package_dir.name
    paths = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                paths[alias.asname or alias.name] = f"{package}.{node.module}.{alias.name}"
    return paths


_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?P<role>func|meth|class|mod|attr|data|obj|exc):`(?P<tilde>~?)(?P<target>[^`<>]+)`")
_FENCE = re.compile(r"^\s*(```|~~~)")


class RstMathPreprocessor(Preprocessor):
    def __init__(self, md, api: dict[str, str], package: str):
        super().__init__(md)
        self.api, self.package = api, package

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        i, fenced = 0, False
        while i < len(lines):
            line = lines[i]
            if _FENCE.match(line):
                fenced = not fenced
            match = None if fenced else _DIRECTIVE.match(line)
            if not match:
                out.append(line if fenced else self.inline(line))
                i += 1
                continue
            indent = match.group("indent")
            body = [match.group("rest")] if match.group("rest").strip() else []
            i += 1
            # The directive's content: every following line that is blank or indented deeper.
            while i < len(lines) and (not lines[i].strip() or _width(lines[i]) > _width(indent)):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            tex = textwrap.dedent("\n".join(body)).strip("\n").splitlines()
            out += ["", f"{indent}$$", *(f"{indent}{t}" for t in tex), f"{indent}$$", ""]
        return out

    def inline(self, line: str) -> str:
        line = _MATH_ROLE.sub(lambda m: rf"\({m.group('tex')}\)", line)
        return _XREF_ROLE.sub(self.xref, line)

    def xref(self, match: re.Match) -> str:
        target = match.group("target").strip()
        name = target[len(self.package) + 1 :] if target.startswith(self.package + ".") else target
        shown = target.rsplit(".", 1)[-1] if match.group("tilde") else target.lstrip(".")
        if match.group("role") in ("func", "meth"):
            shown += "()"  # a callable reads as one; a module, class or attribute does not
        if name in self.api:  # an lsm function documented on the API page: link it
            return f"[`{shown}`][{self.api[name]}]"
        return f"`{shown}`"  # torch and anything else: no inventory is fetched (offline build)


def _width(text: str) -> int:
    return len(text) - len(text.lstrip())


class RstMath(Extension):
    def __init__(self, api: dict[str, str], package: str):
        super().__init__()
        self.api, self.package = api, package

    def extendMarkdown(self, md):
        # Before html_block (20): the math must be arithmatex's to protect, not raw text.
        md.preprocessors.register(RstMathPreprocessor(md, self.api, self.package), "lsm_rst_math", 25)


# -- the repository's links (the published site only) -------------------------------------------
_GITHUB_REPO = re.compile(r"https://github\.com/(?P<repo>[\w.-]+/[\w.-]+?)/?$")
_BRANCH = re.compile(r"^/?(?:edit|blob)/(?P<branch>[^/]+)/")


def colab_base(repo_url: str | None, edit_uri: str | None) -> str | None:
    """Where Google Colab opens this repository's files, for a GitHub ``repo_url`` and an
    ``edit_uri`` of the form ``edit/<branch>/...``: ``https://colab.research.google.com/github/
    <owner>/<repo>/blob/<branch>/``; None otherwise (a local build sets neither)."""
    repo = _GITHUB_REPO.match(repo_url or "")
    branch = _BRANCH.match(edit_uri or "")
    if not (repo and branch):
        return None
    return f"https://colab.research.google.com/github/{repo['repo']}/blob/{branch['branch']}/"


def notebook_edit_url(edit_url: str) -> str:
    """A notebook page's edit link names notebooks/, not docs/notebooks/: that is a symbolic link,
    which GitHub's editor does not follow."""
    return edit_url.replace("/docs/notebooks/", "/notebooks/", 1)


# -- events -----------------------------------------------------------------------------------
@event_priority(100)  # before mkdocstrings reads the Markdown extensions
def on_config(config):
    global _notebooks
    docs_dir = Path(config.docs_dir)
    _notebooks = find_notebooks(docs_dir)
    if config.nav is None or not fill_nav_section(config.nav, _notebooks):
        log.warning("mkdocs.yml: nav has no '%s' section for the notebooks", NOTEBOOKS_SECTION)
    package_dir = Path(config.config_file_path).parent / "lsm"
    config.markdown_extensions.append(RstMath(public_api(package_dir), package_dir.name))
    config.extra["colab"] = colab_base(config.repo_url, config.edit_uri)  # overrides/main.html
    return config


def on_page_context(context, page, config, nav):
    if page.edit_url and page.file.src_uri.endswith(".ipynb"):
        page.edit_url = notebook_edit_url(page.edit_url)
    return context


_READING_ITEM = re.compile(
    r"^(?P<lead>\s*\d+\.\s+)\[(?P<text>[^\]]*)\]\((?P<src>notebooks/[^)#]+\.ipynb)\)(?P<rest>.*)$"
)


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "index.md":
        return markdown
    listed, lines = set(), []
    for line in markdown.splitlines():
        match = _READING_ITEM.match(line)
        if match:
            src = match.group("src")
            listed.add(src)
            if src in _notebooks:
                title = re.sub(r"^\d+\.\s*", "", _notebooks[src])  # the list numbers it already
                line = f"{match.group('lead')}[{title}]({src}){match.group('rest')}"
            else:
                log.info("index.md: %s does not exist yet; listed without a link", src)
                line = f"{match.group('lead')}{match.group('text')} *(in preparation)*{match.group('rest')}"
        lines.append(line)
    for src in sorted(_notebooks.keys() - listed):
        log.warning("index.md: %s is not in the reading order; add it to the list", src)
    return "\n".join(lines)


_NBCONVERT_LEFTOVERS = [
    re.compile(r"<script src=\"\">\s*</script>"),
    re.compile(r"(<!-- MathJax configuration -->\s*)?<script type=\"text/x-mathjax-config\">.*?</script>", re.S),
    re.compile(r"<script type=\"module\">\s*document\.addEventListener\(\"DOMContentLoaded\"[^<]*?jp-Mermaid.*?</script>", re.S),
    # mkdocs-jupyter 0.26 appends the highlighting CSS as a Python list's repr (['pre { ... }\n...']),
    # about 5 kB per page in which a browser finds no rule at all (it parses to zero rules).
    re.compile(r"<style>\s*\[['\"].*?['\"]\]\s*</style>", re.S),
    # and the styles of mermaid diagrams, which the site cannot draw (on_page_content warns)
    re.compile(r"<style>\s*\.jp-Mermaid:not\(\.jp-RenderedMermaid\).*?</style>", re.S),
    re.compile(r"<!-- End of mathjax configuration -->"),
]


_INLINE_STYLE = re.compile(r'<style type="text/css">(.*?)</style>', re.S)

# {"assets/notebook-<hash>.css": css}: the notebook styles to write out, set by on_page_content.
_shared_css: dict[str, str] = {}
# {page's src_uri: [its notebook CSS paths]}: on_post_page links them in the page's <head>.
_page_css: dict[str, list[str]] = {}


def on_pre_build(config):
    _shared_css.clear()
    _page_css.clear()
    _plots.clear()


# A link in a notebook's markdown cell, written so that it works in Jupyter and on GitHub:
# another notebook (``03_max_shift.ipynb#infinite-maxima``) or a docs page
# (``../docs/notation.md``). nbconvert renders the cell itself, so mkdocs never rewrites it.
_NOTEBOOK_LINK = re.compile(r'href="(?P<path>(?:\.\./docs/)?[\w./-]+\.(?:ipynb|md))(?P<fragment>#[^"]*)?"')


def rewrite_notebook_links(html: str, page, files) -> str:
    """Point each notebook-relative link at the page that the site builds for its target."""
    def site_link(match: re.Match) -> str:
        path = match.group("path")
        target = path[len("../docs/"):] if path.startswith("../docs/") else f"{NOTEBOOK_DIR}/{path}"
        file = files.get_file_from_path(target)
        if file is None or not file.is_documentation_page():
            log.warning("%s: link %r names no page of the site", page.file.src_uri, path)
            return match.group(0)
        return f'href="{get_relative_url(file.url, page.url)}{match.group("fragment") or ""}"'

    return _NOTEBOOK_LINK.sub(site_link, html)


DEFAULT_ALT = 'alt="No description has been provided for this image"'  # nbconvert's stand-in


def plot_descriptions(notebook: Path) -> list[tuple[int, str | None]]:
    """(cell index, its ``alt`` metadata) for each image output, in page order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [
        (i, cell.get("metadata", {}).get("alt"))
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {}) or "image/jpeg" in output.get("data", {})
    ]


def describe_plots(html: str, page) -> str:
    """Give each plot the alt text its code cell states in its metadata (``"alt"``), in place
    of nbconvert's default; a plot without one is a build warning (so --strict fails)."""
    descriptions = plot_descriptions(Path(page.file.abs_src_path))
    if html.count(DEFAULT_ALT) != len(descriptions):
        log.warning("%s: %d plots on the page, %d image outputs in the notebook",
                    page.file.src_uri, html.count(DEFAULT_ALT), len(descriptions))
        return html
    for cell, alt in descriptions:
        if not alt:
            log.warning("%s: the plot of cell %d has no alt text (cell metadata \"alt\")", page.file.src_uri, cell)
            alt = ""
        html = html.replace(DEFAULT_ALT, f'alt="{escape(alt, quote=True)}"', 1)
    return html


# What the search index should not hold: the cells' prompts ("In [2]:"), the copy buttons'
# "Copied!" notices, which would otherwise open every snippet of a notebook section, and the
# hidden copy of each cell's code that the copy button copies (mkdocs-jupyter's
# clipboard-copy-txt), which held every cell's code a second time: 282 kB of the 1 MB index.
_NOT_SEARCHED = re.compile(
    r'(<div class="jp-(?:Input|Output)Prompt[^"]*"|<clipboard-copy|<div class="clipboard-copy-txt")(?=[\s>])'
)


# nbconvert embeds each plot in the page as a base64 data: URI, a third more bytes than the image,
# parsed with the HTML and never cached; the lightbox (mkdocs-glightbox) would copy it into its
# link. Each plot becomes a file beside its page instead, named by the hash of its bytes.
_EMBEDDED_PLOT = re.compile(r'src="data:image/(?P<ext>png|jpeg);base64,(?P<data>[A-Za-z0-9+/=\s]+)"')

# {"notebooks/01_softmax/plot-<hash>.png": bytes}: the plots to write out, set by on_page_content.
_plots: dict[str, bytes] = {}


def plots_to_files(html: str, page) -> str:
    """Point each embedded plot at a file beside the page (written by on_post_build)."""
    def to_file(match: re.Match) -> str:
        data = base64.b64decode(match.group("data"))
        name = f"plot-{hashlib.sha256(data).hexdigest()[:12]}.{match.group('ext')}"
        _plots[page.url + name] = data
        return f'src="{name}"'

    return _EMBEDDED_PLOT.sub(to_file, html)


@event_priority(50)  # before mkdocs-glightbox wraps the plots in links to their sources
def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    html = rewrite_notebook_links(html, page, files)
    html = describe_plots(html, page)
    html = plots_to_files(html, page)
    html = _NOT_SEARCHED.sub(r"\1 data-search-exclude", html)
    for pattern in _NBCONVERT_LEFTOVERS:
        html, count = pattern.subn("", html)
        if count != 1:
            log.warning(
                "%s: expected one nbconvert leftover matching %r, found %d",
                page.file.src_uri, pattern.pattern[:40], count,
            )  # fmt: skip
    if 'class="jp-Mermaid' in html:
        log.warning("%s: mermaid diagrams need a CDN; the offline site cannot draw them", page.file.src_uri)

    def to_shared_file(match: re.Match) -> str:
        css = match.group(1)
        path = f"assets/notebook-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
        _shared_css[path] = css
        _page_css.setdefault(page.file.src_uri, []).append(path)
        return ""

    return _INLINE_STYLE.sub(to_shared_file, html)


# mkdocs-material's search is a dialog without a name, which screen readers announce as "dialog"
# (Lighthouse: aria-dialog-name); it is named as its input is labelled.
_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def name_search_dialog(output: str, page) -> str:
    if _SEARCH_DIALOG not in output:
        log.warning("%s: mkdocs-material's search dialog was not found: it is left unnamed", page.file.src_uri)
        return output
    return output.replace(_SEARCH_DIALOG, _SEARCH_DIALOG[:-1] + ' aria-label="Search">', 1)


def on_post_page(output, page, config):
    """Link the page's notebook CSS at the end of its <head>, not in the body where nbconvert put
    its <style>: the cascade keeps its order (these rules still come after the theme's), and the
    browser has every rule before it first styles the page instead of meeting a stylesheet
    halfway through the article. Name the search dialog."""
    output = name_search_dialog(output, page)
    links = "".join(
        f'<link rel="stylesheet" href="{get_relative_url(path, page.url)}">' for path in _page_css.get(page.file.src_uri, [])
    )
    return output.replace("</head>", links + "</head>", 1) if links else output


# -- 6. unused notebook CSS ------------------------------------------------------------------
PURGECSS = Path(__file__).resolve().parent.parent / "node_modules" / "purgecss" / "bin" / "purgecss.js"
# What can put a class on a notebook page: the pages themselves and the site's scripts.
PURGE_CONTENT = ("notebooks/*/index.html", "assets/javascripts/*.js", "javascripts/*.js")


def purge_css(css_files: list[Path], site_dir: Path) -> None:
    """Rewrite each file with only the rules (and custom properties, @font-face and @keyframes)
    that the site can use, as PurgeCSS decides from the tokens of PURGE_CONTENT."""
    node = shutil.which("node")
    if node is None or not PURGECSS.is_file():
        raise RuntimeError("the site build trims its notebook CSS with PurgeCSS on Node.js: run `npm ci` (make does)")
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [node, str(PURGECSS), "--css", *map(str, css_files), "--content", *(str(site_dir / g) for g in PURGE_CONTENT),
             "--variables", "--font-face", "--keyframes", "--output", out],
            capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode != 0:
            raise RuntimeError(f"PurgeCSS failed on {[c.name for c in css_files]}:\n{run.stderr[-2000:]}")
        for css in css_files:
            shutil.copyfile(Path(out) / css.name, css)


def on_post_build(config):
    site = Path(config.site_dir)
    for path, data in _plots.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(data)
    written = []
    for path, css in _shared_css.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(css, encoding="utf-8")
        written.append(target)
    if not written:
        return
    purge_css(written, site)
    renamed = {}
    for target in written:
        name = f"notebook-{hashlib.sha256(target.read_bytes()).hexdigest()[:12]}.css"
        target.rename(target.with_name(name))
        renamed[target.name] = name
    for page in site.glob(f"{NOTEBOOK_DIR}/*/index.html"):
        html = page.read_text(encoding="utf-8")
        for old, new in renamed.items():
            html = html.replace(f"/assets/{old}\"", f"/assets/{new}\"")
        page.write_text(html, encoding="utf-8")
