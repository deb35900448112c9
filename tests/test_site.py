"""The published site: built strictly, complete, offline, and rendered correctly in a browser.

A module fixture builds the site (``mkdocs build --strict``) into a temporary folder (into
$LSM_SITE_DIR when set). The static tests read the built HTML: every formula of the sources is
rendered at build time by KaTeX (tools/mkdocs_math.py), and no TeX is left. The browser tests
serve it on 127.0.0.1 and load every page in headless Chromium, driven by Playwright
(pytest-playwright), and check that no math script runs, that every formula is on
the page as KaTeX output, that every plot loads, that no request fails or leaves the site, and
that the console stays clean; then, at phone width (390 px), that nothing is cut off at the
screen's edge and that every box that scrolls sideways shows its scroll shadows. Screenshots of
each page's first screen at both widths go to artifacts/site/ (gitignored) for a human to look at.

Chromium comes from the system (Debian: ``apt-get install chromium``; $LSM_CHROMIUM names
another binary): Playwright launches it by its path and never downloads a browser. Without one
the browser tests are skipped, unless $LSM_REQUIRE_BROWSER is set, as .ci/run sets it: then they
fail. pytest-playwright's launch options work (``--headed``, ``--slowmo 500``).
"""

from __future__ import annotations

import ast
import functools
import gzip
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.parse
from importlib.metadata import distributions
from html import unescape
from pathlib import Path

import pytest
import lxml.html

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MARKDOWN_PAGES = sorted(p.relative_to(ROOT / "docs") for p in (ROOT / "docs").rglob("*.md"))
SCREENSHOTS = ROOT / "artifacts" / "site"
# Screenshots are taken in CI ($CI; the workflow uploads them) and by `make site-test`
# (LSM_SCREENSHOTS=1), not by a local `make test`: its 32 cost about 3 core-seconds. The first
# screen of every page by default; LSM_FULL_SCREENSHOTS=1 captures whole pages.
TAKE_SCREENSHOTS = os.environ.get("LSM_SCREENSHOTS", os.environ.get("CI", "")) not in ("", "0", "false")
FULL_PAGE_SCREENSHOTS = os.environ.get("LSM_FULL_SCREENSHOTS") == "1"
# Debian's and Ubuntu's package names first, then Google's builds (GitHub's runners have one).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# --no-sandbox: CI runs as root in a container; nothing here needs the network or a GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
INSTALL_HINT = (
    "no Chromium found: install it (Debian/Ubuntu: sudo apt-get install chromium) "
    "or point $LSM_CHROMIUM at a Chrome/Chromium binary"
)


def screenshot(page, name: str) -> None:
    """The page's first screen (the whole page with LSM_FULL_SCREENSHOTS=1) as artifacts/site/<name>.jpg."""
    if TAKE_SCREENSHOTS:
        page.screenshot(path=SCREENSHOTS / f"{name}.jpg", type="jpeg", quality=80, full_page=FULL_PAGE_SCREENSHOTS)


def page_url(source: Path) -> str:
    """The site URL (relative, directory style) of a docs/ Markdown page or a notebook."""
    if source.suffix == ".ipynb":
        return f"notebooks/{source.stem}/"
    stem = source.with_suffix("").as_posix()
    return "" if stem == "index" else (stem[: -len("/index")] if stem.endswith("/index") else stem) + "/"


PAGES = [page_url(p) for p in MARKDOWN_PAGES] + [page_url(p) for p in NOTEBOOKS]


@functools.lru_cache(maxsize=None)
def html_of(site: Path, url: str) -> lxml.html.HtmlElement:
    """The parsed page, parsed once per run (the tests only read it). lxml parses a notebook page
    in about 20 ms and frees it at once; BeautifulSoup took about 0.7 s a page, and its cached
    trees about 9 s more to free when the worker exited."""
    return lxml.html.fromstring((site / url / "index.html").read_bytes())


def select(root: lxml.html.HtmlElement, css: str) -> list:
    return root.cssselect(css)


def select_one(root: lxml.html.HtmlElement, css: str):
    found = root.cssselect(css)
    return found[0] if found else None


def words(element: lxml.html.HtmlElement) -> str:
    """The element's text, its pieces stripped and joined by single spaces."""
    return " ".join(piece.strip() for piece in element.itertext() if piece.strip())


# -- counting what the sources contain ----------------------------------------------------------
_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|(`+)(?!`).+?(?<!`)\2(?!`)", re.M | re.S)
_DISPLAY = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{([a-zA-Z*]+)\}.+?\\end\{\1\}", re.S)
_INLINE = re.compile(r"\$(?:[^$\n]|\n(?![ \t]*\n))+?\$|\\\(.+?\\\)", re.S)


def count_tex(markdown: str) -> int:
    """How many formulas a notebook's markdown holds, with MathJax's delimiters: $$, \\[ \\],
    environments, then $ and \\( \\); code spans and fences are skipped (written independently
    of the build's own scanner in tools/mkdocs_math.py, which reads the HTML)."""
    text = _CODE.sub(" ", markdown).replace(r"\$", "")
    displays = len(_DISPLAY.findall(text))
    return displays + len(_INLINE.findall(_DISPLAY.sub(" ", text)))


# nbconvert's HTML exporter shows the first of these that an output has.
DISPLAY_PRIORITY = (
    "application/vnd.jupyter.widget-view+json", "application/javascript", "text/html",
    "text/markdown", "image/svg+xml", "text/latex", "image/png", "image/jpeg", "image/gif", "text/plain",
)  # fmt: skip


def notebook_expectations(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    tex = images = svgs = 0
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            tex += count_tex(source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            shown = next((m for m in DISPLAY_PRIORITY if m in data), None)
            text = "".join(data[shown]) if shown and isinstance(data[shown], list) else data.get(shown, "")
            if shown in ("text/markdown", "text/latex"):
                tex += count_tex(text)
            images += shown in ("image/png", "image/jpeg", "image/gif")
            svgs += shown == "image/svg+xml"
    return {"tex": tex, "images": images, "svgs": svgs}


_ROLE_OR_DIRECTIVE = re.compile(r":math:`|^[ \t]*\.\. math::", re.M)
_AUTODOC = re.compile(r"^::: (?P<ident>\S+)\n(?P<options>(?:[ \t]+\S.*\n?)*)", re.M)


def docstring(ident: str) -> str:
    """The docstring of a module or function of lsm or of the lab beside it (lab/lsmlab), read
    with ast (no import of torch)."""
    parts = ident.split(".")
    base = ROOT / "lab" if parts[0] == "lsmlab" else ROOT
    for path in (base.joinpath(*parts, "__init__.py"), base.joinpath(*parts).with_suffix(".py")):
        if path.is_file():
            return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""
    parent = base.joinpath(*parts[:-1])
    module = ast.parse((parent / "__init__.py" if parent.is_dir() else parent.with_suffix(".py")).read_text(encoding="utf-8"))
    node = next(n for n in module.body if getattr(n, "name", None) == parts[-1])
    members = [m for m in getattr(node, "body", []) if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")]
    # a class renders with its public methods and properties
    return "\n".join(ast.get_docstring(n, clean=False) or "" for n in [node, *members])


def markdown_page_math(source: Path) -> int:
    """Formulas on a Markdown page: its own $...$ and $$...$$, plus the reST math in the
    docstrings that its ``::: identifier`` blocks render (members as listed in the options)."""
    text = source.read_text(encoding="utf-8")
    count = 0
    for block in _AUTODOC.finditer(text):
        members = re.search(r"members:\s*(\[.*\]|false)", block.group("options"))
        idents = [block.group("ident")]
        if members and members.group(1) != "false":
            idents += [f"{block.group('ident')}.{m.strip()}" for m in members.group(1).strip("[]").split(",")]
        count += sum(len(_ROLE_OR_DIRECTIVE.findall(docstring(i))) for i in idents)
    return count + count_tex(_AUTODOC.sub("", text))


def expected_math(url: str) -> int:
    for notebook in NOTEBOOKS:
        if page_url(notebook) == url:
            return notebook_expectations(notebook)["tex"]
    return markdown_page_math(next(ROOT / "docs" / p for p in MARKDOWN_PAGES if page_url(p) == url))


def public_names() -> list[str]:
    tree = ast.parse((ROOT / "lsm" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("lsm/__init__.py has no __all__")


# -- the build ----------------------------------------------------------------------------------
BUILT_AT: list[float] = []  # when the site fixture started building (time.time())


def edited_since_build(path: Path) -> str:
    """A note for a failure message when the notebook changed while the tests ran."""
    if BUILT_AT and path.stat().st_mtime > BUILT_AT[0]:
        return f" ({path.name} was modified after the site was built: re-run the test)"
    return ""


def build_inputs(root: Path = ROOT) -> str | None:
    """A digest of everything a build reads: the files git tracks or would track (outside tests/
    and .ci/, which the build does not read), the Python and Node.js versions and the version of
    every distribution installed in this environment. None where git cannot list the files."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=root, capture_output=True, check=True).stdout.decode().split("\0")
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    digest = hashlib.sha256(f"{sys.version}\n{node}".encode())
    installed = distributions(path=sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}))
    digest.update(" ".join(sorted(f"{d.metadata['Name']}=={d.version}" for d in installed)).encode())
    for name in sorted(n for n in listed if n and not n.startswith(("tests/", ".ci/"))):
        path = root / name
        if path.is_file():  # a deleted file git still tracks is not read
            digest.update(f"\0{name}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built strictly: into $LSM_SITE_DIR when set (make test publishes this build to
    site/ and leaves the stamp .site-built-by-tests beside it, so that it need not build twice),
    else into a temporary folder.

    Into $LSM_SITE_DIR, a strict build of the same inputs is not repeated: a warm `make test` of
    an unchanged tree reuses it (the build takes about 10 s of one core, and its output depends
    on nothing else). .<dir>-inputs records the digest of what the last test build read
    (``build_inputs``) and when it wrote index.html, which any later build rewrites.
    LSM_REBUILD_SITE=1 builds anyway; CI builds a fresh clone."""
    named = os.environ.get("LSM_SITE_DIR")
    out = Path(named).resolve() if named else tmp_path_factory.mktemp("site")
    stamp = out.parent / f".{out.name}-built-by-tests"
    record = out.parent / f".{out.name}-inputs"
    stamp.unlink(missing_ok=True)
    inputs = build_inputs() if named and os.environ.get("LSM_REBUILD_SITE") != "1" else None
    index = out / "index.html"
    if inputs and record.is_file() and index.is_file() and record.read_text() == f"{inputs} {index.stat().st_mtime_ns}":
        BUILT_AT[:] = [index.stat().st_mtime]
        stamp.touch()
        return out
    record.unlink(missing_ok=True)
    BUILT_AT[:] = [time.time()]
    start = time.monotonic()
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    seconds = time.monotonic() - start
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-5000:]}"
    warnings = [line for line in build.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    assert seconds < 60, f"the site build took {seconds:.0f} s"
    if inputs:
        record.write_text(f"{inputs} {index.stat().st_mtime_ns}")
    stamp.touch()
    return out


def test_a_reused_build_is_one_of_the_same_inputs(tmp_path):
    """The digest that lets a warm run reuse the site changes with any file the build may read,
    committed or not, and not with the tests."""
    for name, text in (("docs/index.md", "a"), ("tests/test_x.py", "b"), (".gitignore", "site/\n")):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    first = build_inputs(tmp_path)
    assert first and build_inputs(tmp_path) == first
    (tmp_path / "tests" / "test_x.py").write_text("changed")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("ignored output")
    assert build_inputs(tmp_path) == first
    (tmp_path / "docs" / "new.md").write_text("untracked, not ignored")
    second = build_inputs(tmp_path)
    assert second != first
    (tmp_path / "docs" / "index.md").write_text("edited")
    assert build_inputs(tmp_path) not in (first, second)


def test_every_page_is_built(site):
    for url in PAGES:
        assert (site / url / "index.html").is_file(), f"no page for {url or 'the home page'}"


def test_nav_lists_every_notebook_in_file_name_order_titled_by_its_heading(site):
    nav = select(html_of(site, ""), "nav.md-nav--primary a.md-nav__link[href]")
    linked = [(a.get("href"), words(a)) for a in nav if "notebooks/" in a.get("href")]
    hrefs = [h for h, _ in linked]
    assert hrefs == [f"notebooks/{p.stem}/" for p in NOTEBOOKS]
    for (href, title), path in zip(linked, NOTEBOOKS):
        heading = next(
            line[2:].strip()
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines()
            if line.startswith("# ")
        )
        assert title == re.sub(r"\s+", " ", heading).replace("`", ""), href


def test_home_page_reading_order_links_every_notebook(site):
    home = html_of(site, "")
    links = [a.get("href") for a in select(home, "article ol a[href]") if a.get("href").startswith("notebooks/")]
    assert links == [f"notebooks/{p.stem}/" for p in NOTEBOOKS]
    assert select_one(home, 'article a[href="notation/"]') is not None
    assert select_one(home, 'article a[href="api/"]') is not None


def internal_links(site: Path, url: str):
    """(href, resolved page folder, fragment) for every link of a page's article that stays on the site."""
    for a in select(html_of(site, url), "article a[href]"):
        href = a.get("href")
        if re.match(r"[a-z][a-z0-9+.-]*:", href) or "download" in a.attrib:
            continue  # http(s), mailto, ...; the download button is checked on its own
        path, _, fragment = href.partition("#")
        target = (site / url / path).resolve() if path else (site / url).resolve()
        yield href, target, fragment


@functools.lru_cache(maxsize=None)
def anchors_of(page: Path) -> frozenset:
    return frozenset(re.findall(r'\sid="([^"]+)"', page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("url", PAGES)
def test_every_link_between_pages_reaches_a_page_and_its_anchor(site, url):
    for href, target, fragment in internal_links(site, url):
        page = target / "index.html" if target.is_dir() else target
        assert page.is_file(), f"{url or 'home'}: {href} leads to no page"
        if fragment and page.suffix == ".html":
            assert fragment in anchors_of(page), f"{url or 'home'}: {href}: the page has no anchor #{fragment}"


@pytest.mark.parametrize("url", PAGES)
def test_every_file_a_page_loads_is_published(site, url):
    """Stylesheets, scripts, icons and images named in the HTML exist in the site. The browser
    test sees most of these as requests, but not the favicon: Chromium asks for it after the
    load event and the search index, where ``load`` stops watching."""
    page = html_of(site, url)
    named = [e.get("href") for e in select(page, "link[href]")]  # prev and next: pages
    named += [e.get("src") for e in select(page, "script[src], img[src], source[src]")]
    local = [n for n in named if not re.match(r"[a-z][a-z0-9+.-]*:|//", n)]
    assert any("favicon" in n for n in local), f"{url or 'home'}: no favicon link"
    targets = {n: (site / url / n.partition("#")[0].partition("?")[0]).resolve() for n in local}
    missing = [n for n, t in targets.items() if not (t / "index.html" if t.is_dir() else t).is_file()]
    assert not missing, f"{url or 'home'}: {missing}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_links_the_notation_page_from_its_first_cell(site, notebook):
    first = select_one(html_of(site, page_url(notebook)), "article .jp-MarkdownCell")
    assert first is not None and select_one(first, 'a[href="../../notation/"]') is not None, notebook.name


@pytest.mark.parametrize("url", PAGES)
def test_no_page_names_a_file_or_folder_that_readers_cannot_open(site, url):
    text = " ".join(select_one(html_of(site, url), "article").itertext())
    assert not re.search(r"[0-9]{3}_[0-9a-f]{16}|shared/", text), url


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_page_offers_its_notebook_for_download(site, notebook):
    page = html_of(site, page_url(notebook))
    downloads = {a.get("href") for a in select(page, "a[download]")}
    assert downloads == {notebook.name}
    copy = site / page_url(notebook) / notebook.name
    assert copy.read_bytes() == notebook.read_bytes(), edited_since_build(notebook)


def test_api_reference_documents_every_public_function_with_rendered_math(site):
    api = html_of(site, "api/")
    ids = {tag.get("id") for tag in select(api, "[id^='lsm.']")}
    missing = [name for name in public_names() if not any(i.endswith(f".{name}") for i in ids)]
    assert not missing, f"not on the API page: {missing}"
    text = select_one(api, "article").text_content()
    for leftover in (":math:", ".. math::", ":func:", ":class:"):
        assert leftover not in text, f"unrendered reST {leftover!r} on the API page"
    assert len(select(api, ".arithmatex")) == expected_math("api/") > 0


def test_no_page_loads_anything_from_outside_the_site(site):
    """Scripts, styles, fonts and images all come from the site itself (links to elsewhere are fine)."""
    remote = r"""["']?(?:https?:)?//"""
    src = re.compile(rf"<(script|img|iframe|source|audio|video|embed|track|input)\b[^>]*?\ssrc={remote}[^>]*>", re.I)
    link = re.compile(rf"<link\b(?=[^>]*\shref={remote})[^>]*>", re.I)
    harmless_rel = re.compile(r"""\srel=["']?(canonical|alternate|author|license)\b""", re.I)
    in_code = re.compile(rf"(@import|url\(|import\(|\.src\s*=)\s*{remote}")
    inline = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S | re.I)
    found = []
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(site)}: {m.group(0)[:120]}" for m in src.finditer(html)]
        found += [
            f"{path.relative_to(site)}: {m.group(0)[:120]}" for m in link.finditer(html) if not harmless_rel.search(m.group(0))
        ]
        found += [f"{path.relative_to(site)}: remote load in an inline <{m.group(1)}>" for m in inline.finditer(html) if in_code.search(m.group(2))]
    for path in site.rglob("*.css"):
        if in_code.search(path.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{path.relative_to(site)}: remote @import or url()")
    assert not found, "\n".join(found)


def test_notebook_pages_share_trimmed_css_named_by_its_content(site):
    """The JupyterLab CSS that nbconvert inlines (about 590 kB) is one shared file, trimmed by
    PurgeCSS to the rules the pages can use, named by the hash of what it holds and linked in
    each notebook page's <head>. A rule for a class that only mkdocs-material's script adds
    (tables' md-typeset__scrollwrap) stays."""
    import hashlib

    files = sorted((site / "assets").glob("notebook-*.css"))
    assert files, "no shared notebook CSS"
    for css in files:
        assert css.stat().st_size <= 20_000, f"{css.name}: {css.stat().st_size} bytes"
        assert css.stem == f"notebook-{hashlib.sha256(css.read_bytes()).hexdigest()[:12]}", css.name
    assert ".jupyter-wrapper .md-typeset__scrollwrap{margin:0}" in "".join(f.read_text() for f in files)
    for notebook in NOTEBOOKS:
        page = html_of(site, page_url(notebook))
        linked = {Path(link.get("href")).name for link in select(page, "head link[rel=stylesheet]")}
        assert {f.name for f in files} <= linked, notebook.name
        inline = [len(style.text or "") for style in select(page, "style")]
        assert all(n < 1000 for n in inline), f"{notebook.name}: inline <style> of {inline} characters"
        # every rule is known before the page is first styled: none arrives halfway through the article
        assert not select(page, "body style, body link[rel=stylesheet]"), f"{notebook.name}: styles in the <body>"


def test_katex_is_pinned_and_its_assets_are_published(site):
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["katex"]
    assert lock["packages"]["node_modules/katex"]["version"] == pinned
    assert (site / "assets" / "katex" / "katex.min.css").is_file()
    fonts = sorted(p.name for p in (site / "assets" / "katex" / "fonts").iterdir())
    assert fonts and all(name.endswith(".woff2") for name in fonts)
    assert not (site / "vendor" / "mathjax").exists()


@pytest.mark.parametrize("url", PAGES)
def test_the_search_dialog_has_an_accessible_name(site, url):
    dialogs = select(html_of(site, url), '[role="dialog"]')
    assert dialogs and all(d.get("aria-label") or d.get("aria-labelledby") for d in dialogs), url or "home"


@pytest.mark.parametrize("url", PAGES)
def test_a_local_build_has_no_repository_edit_or_colab_link(site, url):
    """The workflow sets LSM_REPO_URL and LSM_EDIT_URI from the repository it runs in; a local
    build has neither, and shows no link rather than a wrong one."""
    if os.environ.get("LSM_REPO_URL"):
        pytest.skip("LSM_REPO_URL is set: this build links its repository")
    page = (site / url / "index.html").read_text(encoding="utf-8")
    assert "md-source" not in page and 'rel="edit"' not in page and "colab.research.google.com" not in page


def test_the_repository_links_are_derived_from_the_repository_the_workflow_runs_in():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_hooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    colab = mkdocs_hooks.colab_base("https://github.com/someone/lsm", "edit/main/docs/")
    assert colab == "https://colab.research.google.com/github/someone/lsm/blob/main/"
    assert mkdocs_hooks.colab_base("https://github.com/someone/lsm/", "edit/dev/docs/").endswith("/lsm/blob/dev/")
    assert mkdocs_hooks.colab_base(None, None) is None  # a local build
    assert mkdocs_hooks.colab_base("https://gitlab.com/someone/lsm", "edit/main/docs/") is None  # Colab opens GitHub
    edit = mkdocs_hooks.notebook_edit_url("https://github.com/someone/lsm/edit/main/docs/notebooks/01_softmax.ipynb")
    assert edit == "https://github.com/someone/lsm/edit/main/notebooks/01_softmax.ipynb"
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "LSM_REPO_URL: ${{ github.server_url }}/${{ github.repository }}" in workflow
    assert "LSM_EDIT_URI: edit/${{ github.event.repository.default_branch }}/docs/" in workflow


def test_rst_math_in_docstrings_becomes_arithmatex_and_autorefs():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_hooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    import markdown

    md = markdown.Markdown(
        extensions=["pymdownx.arithmatex", mkdocs_hooks.RstMath({"softmax": "lsm.softmax.softmax"}, "lsm")],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    html = md.convert(
        "Text :math:`\\log\\_x` and :func:`lsm.softmax`, :func:`torch.exp`.\n\n"
        ".. math::\n    a = b \\\\\n    \\qquad c\n\nAfter.\n\n"
        ".. math:: x^2\n\n```\n.. math:: kept\n```\n"
    )
    assert '<span class="arithmatex">\\(\\log\\_x\\)</span>' in html
    assert '<div class="arithmatex">\\[\na = b \\\\\n\\qquad c\n\\]</div>' in html
    assert '<div class="arithmatex">\\[\nx^2\n\\]</div>' in html
    assert "<p>After.</p>" in html and ".. math:: kept" in html
    assert "[<code>lsm.softmax()</code>][lsm.softmax.softmax]" in html  # autorefs resolves it
    assert "<code>torch.exp()</code>" in html


# -- the browser --------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=site))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def find_chromium() -> str | None:
    """The browser named by $LSM_CHROMIUM, else the first of CHROMIUM_NAMES on PATH, else None."""
    named = os.environ.get("LSM_CHROMIUM")
    if named:
        return shutil.which(named)  # a name on PATH or a path to an executable
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches the system's Chromium: Playwright never downloads a browser here."""
    executable = find_chromium()
    if executable is None:
        if os.environ.get("LSM_REQUIRE_BROWSER"):
            pytest.fail(f"$LSM_REQUIRE_BROWSER is set but {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def browser(launch_browser):
    """One Chromium for this module (pytest-playwright would keep it until the session ends)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.jpg"):
        old.unlink()
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def site_context(browser):
    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1)
    yield context
    context.close()


@pytest.fixture(scope="module")
def page(site_context):
    """One tab for the module, which each test navigates: a new context or tab per test (as
    pytest-playwright's own ``page`` has) starts a renderer process for each, and on this
    machine the module took about 20 s longer."""
    page = site_context.new_page()
    yield page
    page.close()


class Watched:
    """What a page asked for and what went wrong on it: failed requests, HTTP errors, console
    errors and uncaught exceptions, as Playwright reports them (since the last ``clear``)."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.problems: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400
                and self.problems.append(f"HTTP {response.status}: {response.url}"))
        page.on("console", lambda message: message.type in ("error", "assert")
                and self.problems.append(f"console.{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def clear(self) -> None:
        self.requests.clear()
        self.problems.clear()


@pytest.fixture(scope="module")
def _watched_tab(page) -> Watched:
    return Watched(page)


@pytest.fixture
def watched(_watched_tab) -> Watched:
    """What the module's tab does during this test."""
    _watched_tab.clear()
    return _watched_tab


# Runs in the loaded page: what the assertions need, in one round trip.
INSPECT = r"""(async () => {
  await document.fonts.ready;
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const rawTex = [];
  for (const root of document.querySelectorAll('.arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex')) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n; (n = walk.nextNode()); ) {
      if (n.parentElement.closest('.katex, code, pre')) continue;
      if (/\\\(|\\\[|\$\$|\$[^$\s]([^$]*[^$\s])?\$/.test(n.textContent)) rawTex.push(n.textContent.slice(0, 80));
    }
  }
  const out = '.jupyter-wrapper .jp-OutputArea-output';
  const katexFont = [...document.fonts].filter(f => f.family.startsWith('KaTeX') && f.status === 'loaded').length;
  return {
    mathScripts: [...document.scripts].map(s => s.src).filter(src => /mathjax|katex/i.test(src)),
    mathJax: typeof window.MathJax !== 'undefined',
    formulas: document.querySelectorAll('article .katex').length,
    errors: [...document.querySelectorAll('.katex-error')].map(e => e.title || e.textContent),
    katexFonts: katexFont,
    rawTex,
    arithmatex: document.querySelectorAll('.arithmatex').length,
    images: imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, ok: i.complete})),
    outputImages: document.querySelectorAll(out + ' img').length,
    outputSvgs: document.querySelectorAll(out + ' svg').length,
    viewport: window.innerWidth,
    codeCells: document.querySelectorAll('.jupyter-wrapper .highlight-ipynb pre').length,
    codeScrolling: [...document.querySelectorAll('.jupyter-wrapper .highlight-ipynb pre')]
      .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
      .map(pre => pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '')),
  };
})()"""


# Runs in a loaded page at phone width: the elements of the article that stick out past an edge
# of the screen (what lies inside a box that scrolls sideways is reached by scrolling it; inside a
# box that clips, it paints only within that box), and the boxes that overflow sideways without
# the scroll shadows of extra.css.
AT_PHONE_WIDTH = r"""(() => {
  const width = document.documentElement.clientWidth, clipped = [], uncued = [];
  const name = (e) => e.tagName.toLowerCase() + [...e.classList].map((c) => '.' + c).join('');
  const walk = document.createTreeWalker(document.querySelector('article'), NodeFilter.SHOW_ELEMENT);
  const skip = (e) => { let last = e; while (last.lastElementChild) last = last.lastElementChild; walk.currentNode = last; };
  for (let e = walk.currentNode; e; e = walk.nextNode()) {
    if (e.classList.contains('katex-mathml')) { skip(e); continue; }  // for screen readers, clipped to nothing
    const box = e.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || box.left < -1)) clipped.push(`${name(e)} at ${Math.round(box.left)}..${Math.round(box.right)} px`);
    const style = getComputedStyle(e);
    if (['auto', 'scroll'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1) {
      const layers = style.backgroundAttachment.split(', ');  // covers scroll with the content, shadows stay
      if (!(layers.includes('local') && layers.includes('scroll') && style.backgroundImage.includes('gradient'))) uncued.push(name(e));
      skip(e);  // what the box scrolls is reached by scrolling it
    } else if (['hidden', 'clip'].includes(style.overflowX)) {
      skip(e);  // nothing inside paints outside this box (KaTeX's wide SVG strokes, an svg)
    }
  }
  return {width, clipped, uncued};
})()"""


def rgb(css: str) -> tuple[list[float], float]:
    """A CSS ``rgb(r, g, b)`` or ``rgba(r, g, b, a)`` colour: channels in [0, 1] and alpha."""
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    return [v / 255 for v in values[:3]], (values[3] if len(values) > 3 else 1.0)


def relative_luminance(channels: list[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of text over an opaque background (a translucent text colour
    blended over it first, as the browser paints it)."""
    (fg, alpha), (bg, _) = rgb(foreground), rgb(background)
    painted = [alpha * f + (1 - alpha) * b for f, b in zip(fg, bg)]
    hi, lo = sorted((relative_luminance(painted), relative_luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Runs in a loaded page: switches it to a colour scheme as the palette toggle does (mkdocs-material's
# "default" and "slate") and returns (text colour, colour behind it) for the first paragraph,
# code block, printed output, formula and link of the article.
COLOURS = r"""((scheme) => {
  document.body.setAttribute('data-md-color-scheme', scheme);
  getComputedStyle(document.body).color;  // starts the colour transitions (links: 125 ms) ...
  document.getAnimations().forEach((a) => a.finish());  // ... and ends them: the settled colours
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.endsWith(', 0)') && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const pick = (sel) => { const el = document.querySelector(sel);
    return el ? [getComputedStyle(el).color, behind(el)] : null; };
  const link = document.querySelector('article p a[href]:not(.glightbox)');
  return {prose: pick('article p'),
          code: pick('article .highlight pre, article .highlight-ipynb pre, article pre code'),
          output: pick('article .jp-OutputArea-output pre'),
          formula: pick('article .katex'),
          link: pick('article p a[href]'),
          copyright: pick('.md-copyright'),
          underlined: link ? getComputedStyle(link).textDecorationLine.includes('underline') : null};
})"""


def assert_readable(colours: dict, scheme: str, url: str) -> None:
    """The page has a paragraph; each kind of text found keeps a WCAG contrast of at least 4.5
    against what is behind it."""
    assert colours["prose"], f"{url or 'home'}: no paragraph"
    underlined = colours.pop("underlined")
    for what, pair in colours.items():
        if pair:
            assert contrast(*pair) >= 4.5, f"{url or 'home'}, {scheme}: {what} {pair} contrast {contrast(*pair):.2f}"
    # a link in running text differs from the words around it by more than colour (WCAG 1.4.1)
    if colours["link"]:
        assert underlined or contrast(colours["link"][0], colours["prose"][0]) >= 3, f"{url or 'home'}: links by colour alone"


def load(page, server, url: str) -> dict:
    """Open ``url`` and return what INSPECT finds once its fonts and images are in.

    The evaluation is a barrier: every event of the page before its answer (a failed request,
    a console error) has reached ``watched`` when it returns. The search index is not among
    them: overrides/partials/search-on-demand.html holds it back until search is opened."""
    page.goto(server + url, wait_until="load")
    return page.evaluate(INSPECT)


# Every notebook page, first visit, every resource but its own plots (the budget).
PAGE_BUDGET = 350_000
COMPRESSED_ON_THE_WIRE = (".html", ".css", ".js", ".json", ".svg", "/")  # served gzip; fonts and PNGs as they are


def transfer_bytes(site: Path, server: str, urls: list[str], url: str) -> tuple[int, list[str]]:
    """What a first visit to ``url`` downloads: each same-site file it asked for, once, gzip -6
    for text (as a server compresses it), raw for fonts and images; minus the page's own plots."""
    total, counted = 0, []
    for path in sorted({urllib.parse.urlsplit(u).path for u in urls if u.startswith(server)}):
        if path.startswith("/" + url) and "/plot-" in path:
            continue
        file = site / urllib.parse.unquote(path.lstrip("/"))
        data = (file / "index.html" if file.is_dir() else file).read_bytes()
        total += len(gzip.compress(data, 6, mtime=0)) if path.endswith(COMPRESSED_ON_THE_WIRE) else len(data)
        counted.append(path)
    return total, counted


@pytest.mark.parametrize("url", PAGES, ids=lambda u: u.strip("/") or "home")
def test_page_renders_offline_without_errors(site, server, page, watched, url):
    info = load(page, server, url)
    name = url.strip("/").replace("/", "-") or "index"
    screenshot(page, name)

    outside = [u for u in watched.requests if not u.startswith((server, "data:", "blob:"))]
    assert not outside, f"requests that leave the site: {outside}"
    assert not watched.problems, "\n".join(watched.problems)
    assert not [u for u in watched.requests if u.endswith("/search_index.json")], "the index is fetched when search opens"
    weight, counted = transfer_bytes(site, server, watched.requests, url)
    assert weight <= PAGE_BUDGET, f"{url or 'home'}: {weight} bytes over {len(counted)} files: {counted}"

    expected_tex = expected_math(url)
    notebook = next((p for p in NOTEBOOKS if page_url(p) == url), None)
    note = edited_since_build(notebook) if notebook else ""
    if notebook is not None:
        expected = notebook_expectations(notebook)
        assert info["outputImages"] == expected["images"], "plots on the page != image outputs in the notebook" + note
        assert info["codeCells"] > 0 and info["viewport"] >= 1280
        assert not info["codeScrolling"], f"code cells that scroll at {info['viewport']} px: {info['codeScrolling']}"
        assert info["outputSvgs"] >= expected["svgs"], note
    else:
        assert info["arithmatex"] == expected_tex, "math spans on the page != formulas in the source"
    assert not info["mathScripts"] and not info["mathJax"], "the math is rendered at build time: no math script"
    assert info["formulas"] == expected_tex, "rendered formulas != formulas in the source" + note
    if expected_tex:
        assert info["katexFonts"] > 0, "KaTeX's fonts did not load"
    assert not info["errors"], f"KaTeX errors: {info['errors']}"
    assert not info["rawTex"], f"TeX left unrendered: {info['rawTex']}"
    broken = [i["src"] for i in info["images"] if not (i["ok"] and i["w"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert page.locator("[data-md-component=palette] input").count() == 2, "the light/dark toggle"
    assert_readable(page.evaluate(COLOURS, "default"), "light", url)

    # The same page on a phone (laid out again at 390 px, not reloaded).
    # ... and in the dark scheme, as the toggle switches it.
    page.set_viewport_size(PHONE)
    try:
        phone = page.evaluate(AT_PHONE_WIDTH)
        screenshot(page, f"{name}-phone")
        dark = page.evaluate(COLOURS, "slate")
        screenshot(page, f"{name}-phone-dark")
    finally:
        page.goto("about:blank")  # so that this page is not laid out again at laptop width
        page.set_viewport_size(LAPTOP)
    assert phone["width"] == PHONE["width"]
    assert not phone["clipped"], f"at {PHONE['width']} px, cut off at the screen's edge: {phone['clipped'][:5]}"
    assert not phone["uncued"], f"at {PHONE['width']} px, boxes that scroll sideways with no scroll shadow: {phone['uncued']}"
    assert_readable(dark, "dark", url)


@pytest.mark.parametrize("url", PAGES, ids=lambda u: u.strip("/") or "home")
def test_every_formula_of_the_sources_is_rendered_at_build_time(site, url):
    """Counted in the built HTML against the sources: one KaTeX rendering per formula."""
    page = (site / url / "index.html").read_text(encoding="utf-8")
    article = page[page.index("<article") : page.index("</article>")]
    rendered = article.count('<span class="katex">')
    assert rendered == expected_math(url), f"{url or 'home'}: {rendered} rendered, {expected_math(url)} in the source"
    assert "katex-error" not in page
    toc = [words(a) for a in select(html_of(site, url), "nav.md-nav--secondary a.md-nav__link")]
    assert not [t for t in toc if "$" in t], f"TeX left in the table of contents: {toc}"


def test_the_math_renderer_refuses_bad_tex_and_knows_the_macros_the_corpus_uses():
    """A formula KaTeX cannot read is a build warning (so --strict fails), not a page; what the
    notebooks use (\\boldsymbol, \\cancel, \\operatorname with \\_, cases, \\tfrac) renders."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_math
    finally:
        sys.path.pop(0)
    renderer = mkdocs_math.KaTeX()
    try:
        for bad in (r"\undefinedmacro x", r"\frac{1}"):
            html, error = renderer.render(bad, False)
            assert html is None and "KaTeX parse error" in error
        for good in (r"\boldsymbol{x} + \cancel{y}", r"\operatorname{log\_softmax}(x)",
                     r"f(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}", r"\tfrac12"):
            html, error = renderer.render(good, True)
            assert error is None and 'class="katex-display"' in html and "<math" in html  # MathML for screen readers
    finally:
        renderer.close()
    page, count = mkdocs_math.render_math(
        '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown" data-mime-type="text/markdown">'
        "<p>costs \\$5, $a &lt; b$ and <code>$x$</code></p>"
        '<div class="highlight"><pre>echo $HOME $PATH</pre></div><p>then $y$</p></div><p>$z$ outside</p>',
        "test",
        notebook=True,
    )
    assert count == 2 and "costs $5, " in page and "<code>$x$</code>" in page and "&lt; b$" not in page
    assert "echo $HOME $PATH" in page and "then $y$" not in page and "<p>$z$ outside</p>" in page


def search(page, query: str) -> list[str]:
    """The paths of the results the site's own search lists for ``query``, typed into its box.

    mkdocs-material reads the box on a key-up (and on focus), so ``fill`` alone searches only
    the first time; a key press after it searches as typing would. It waits for results that
    highlight the query itself, so that the last query's results are never read as this
    one's; none within 10 s: an empty list."""
    box = page.locator(".md-search__input")
    box.fill(query)
    box.press("End")
    try:
        page.wait_for_function(
            "q => [...document.querySelectorAll('.md-search-result__item mark')]"
            ".some(m => m.textContent.toLowerCase() === q.toLowerCase())",
            arg=query, timeout=10_000,
        )  # fmt: skip
    except PlaywrightTimeoutError:
        return []
    links = page.locator(".md-search-result__item a").evaluate_all("links => links.map(a => a.href)")
    return [urllib.parse.urlsplit(href).path for href in links]


# Queries and where their results must lead: English finds the notebooks; the Chinese sources'
# terms (segmented at build time by jieba) find the glossary.
SEARCHES = {"logsumexp": "/notebooks/", "溢出": "/glossary/", "交叉熵": "/glossary/", "梯度消失": "/glossary/"}


def test_search_finds_english_and_chinese_terms_offline(server, page, watched):
    """One page load, one query after another, as a reader would search (each load builds the
    lunr index from the whole search_index.json again, about 1 core-s)."""
    load(page, server, "")
    index = server + "search/search_index.json"
    assert index not in watched.requests, "the index is loaded before anyone searches"
    for query, where in SEARCHES.items():
        hits = search(page, query)
        assert any(h.startswith(where) for h in hits), f"search for {query!r} found {hits}, nothing under {where}"
    assert watched.requests.count(index) == 1, "opening search fetches the index, once"
    assert not watched.problems, "\n".join(watched.problems)


def glossary_terms() -> list[str]:
    """The Chinese terms of the glossary's table (its first column below the header, split at 、)."""
    lines = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines()
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("|---")) + 1:]
    cells = [line.split("|")[1].strip() for line in body if line.startswith("|")]
    return [term for cell in cells for term in cell.split("、")]


def test_glossary_terms_are_whole_words_of_the_search_index(site):
    """jieba segments the site's Chinese at build time; its user dictionary keeps every glossary
    term whole, so that a query for it (which the browser does not segment) matches a token."""
    terms = glossary_terms()
    assert len(terms) >= 15 and "溢出" in terms and "交叉熵" in terms
    dictionary = {line.split()[0] for line in (ROOT / "tools" / "search_terms_zh.txt").read_text("utf-8").splitlines()
                  if line.strip()}
    assert set(terms) <= dictionary, f"glossary terms missing from the jieba user dictionary: {set(terms) - dictionary}"
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"].replace("\\u200b", "\u200b"))
    tokens = {t for doc in index["docs"] for t in separator.split(re.sub("<[^>]+>", " ", doc["text"])) if t}
    assert set(terms) <= tokens, f"glossary terms split by the segmenter: {set(terms) - tokens}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_plot_carries_the_alt_text_its_cell_states(site, notebook):
    """A plot's alt text says what it shows: each image-producing cell states it in its
    metadata ("alt"), and the page gives each image its cell's text, not nbconvert's default."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    stated = [
        cell.get("metadata", {}).get("alt")
        for cell in cells
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {}) or "image/jpeg" in output.get("data", {})
    ]
    assert all(alt and len(alt) >= 60 for alt in stated), f"{notebook.name}: plots without a description: {stated}"
    shown = [img.get("alt") for img in select(html_of(site, page_url(notebook)), "article .jp-OutputArea-output img")]
    assert shown == stated


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_plot_is_a_file_beside_its_page_that_opens_in_the_lightbox(site, notebook):
    """nbconvert embeds plots as base64; the build writes each to a file named by its hash, and
    mkdocs-glightbox wraps it in a link to that file (a click or tap shows it full-screen)."""
    page = html_of(site, page_url(notebook))
    plots = select(page, "article .jp-OutputArea-output img")
    assert len(plots) == notebook_expectations(notebook)["images"]
    for img in plots:
        src = img.get("src")
        assert re.fullmatch(r"plot-[0-9a-f]{12}\.(png|jpeg)", src), src[:60]
        assert (site / page_url(notebook) / src).stat().st_size > 0
        link = img.getparent()
        assert link.tag == "a" and "glightbox" in link.get("class", "") and link.get("href") == src
    assert 'src="data:image' not in (site / page_url(notebook) / "index.html").read_text(encoding="utf-8")


def test_a_click_on_a_plot_opens_it_full_screen(site, server, page, watched):
    load(page, server, "notebooks/08_cpu_vs_cuda/")  # one of the lighter pages with a plot
    page.locator("article a.glightbox").first.click()
    shown = page.locator(".glightbox-container .gslide.current .gslide-image img")
    shown.wait_for(timeout=10_000)
    shown = shown.evaluate("img => ({src: new URL(img.src).pathname, w: img.naturalWidth})")
    assert shown["src"].startswith("/notebooks/08_cpu_vs_cuda/plot-") and shown["w"] > 0
    assert not watched.problems, "\n".join(watched.problems)


def test_the_copy_button_copies_runnable_code_without_prompts_or_outputs(site, server, page):
    """mkdocs-material's copy button copies a block's innerText while the block carries the
    attribute data-md-copying; on the home page's console examples that text must be the code
    alone: no >>> or ... prompt, no printed output, and Python that compiles."""
    load(page, server, "")
    blocks = page.evaluate(r"""(() => [...document.querySelectorAll('article .highlight code')]
      .filter(code => code.innerText.includes('>>>'))
      .map(code => { code.setAttribute('data-md-copying', '');
                     const text = code.innerText; code.removeAttribute('data-md-copying');
                     return [code.innerText, text]; }))()""")
    assert blocks, "no console example on the home page"
    for shown, copied in blocks:
        assert ">>>" in shown and "tensor(" in shown  # the page still shows prompts and outputs
        lines = copied.splitlines()
        assert not any(line.startswith((">>>", "...", "tensor(")) for line in lines), copied
        compile(copied, "<copied>", "exec")


def test_search_snippets_hold_no_cell_prompts_or_copy_notices(site):
    """The search index keeps the notebooks' prose and code but not the cells' "In [n]:" prompts
    or the copy buttons' "Copied!", which would otherwise open every snippet."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    notebook_text = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith("notebooks/"))
    assert "Copied!" not in notebook_text
    assert not re.search(r"(?:In|Out)\s*\[\d*\]:", notebook_text)
    assert "<pre>import math" in notebook_text and "softmax_literal" in notebook_text  # code is still found
    # ... once: not again from the hidden copy of each cell that the copy button copies
    flat = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", notebook_text)))
    cells = [re.sub(r"\s+", " ", "".join(cell["source"])).strip() for notebook in NOTEBOOKS
             for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]  # fmt: skip
    twice = [code[:60] for code in cells if len(code) > 40 and flat.count(code) > cells.count(code)]
    assert not twice, f"{len(twice)} code cells indexed twice, for example {twice[:3]}"


def test_search_snippets_show_formulas_as_text_not_tex(site):
    """The search plugin indexes the pages before KaTeX renders their math; tools/mkdocs_math.py
    turns each formula of the index into text, outside code, titles included."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    code = re.compile(r"<(pre|code)\b[^>]*>.*?(?:</\1>|$)", re.S)  # an entry can end inside code
    tex = re.compile(r"\\[(\[]|\$[^$\s][^$]*\$|\\(?:frac|operatorname|sum|log|max|mathrm|infty)\b")
    left = [(doc["location"], m.group(0)) for doc in index["docs"] for field in ("title", "text")
            for m in tex.finditer(code.sub(" ", doc[field]))]  # fmt: skip
    assert not left, f"TeX left in the search index: {left[:5]}"
    home = next(doc["text"] for doc in index["docs"] if doc["location"] == "#why-log_softmax-exists")
    assert "s_i = softmax(x)_i = e^{x_i} / ∑_j e^{x_j}" in home
    assert "Why c = max_j x_j" in {re.sub(r"\W+$", "", doc["title"]) for doc in index["docs"]}


def test_formulas_become_plain_text_for_the_search_index():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import mkdocs_math
    finally:
        sys.path.pop(0)

    cases = {
        r"\log s_i = (x_i - c) - \operatorname{log1p}\Big(\sum_{j \ne k} e^{x_j - c}\Big)":
            "log s_i = (x_i - c) - log1p(∑_{j ≠ k} e^{x_j - c})",
        r"\frac{\partial \ell}{\partial x} = \Big(\sum_c a_c\Big)\, s - a": "(∂ ℓ)/(∂ x) = (∑_c a_c) s - a",
        r"u = 2^{-p}, \quad s_i \ge 2^{p+1}": "u = 2^{-p}, s_i ≥ 2^{p+1}",
        r"\epsilon = 2u": "ϵ = 2u",
        r"[-\infty, 0)": "[-∞, 0)",
    }  # fmt: skip
    for tex, text in cases.items():
        assert mkdocs_math.formula_text(tex) == text, tex
