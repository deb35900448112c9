"""Headless Chromium driven over the Chrome DevTools Protocol, with no Python dependency.

Chromium's ``--remote-debugging-pipe`` reads protocol messages (JSON, each ended by a NUL
byte) from file descriptor 3 and writes its answers and events to descriptor 4, so a pipe
pair and ``os.posix_spawn`` are all it takes: no websocket client, no chromedriver, no
downloaded browser. tests/test_site.py uses this to load every page of the built site.

    with Chromium(find_chromium(), profile_dir, log_path) as browser:
        page = browser.new_page()
        page.goto("http://127.0.0.1:8000/")
        page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import time
from pathlib import Path

# Debian and Ubuntu package names first, then Google's builds (GitHub's runners have one).
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
    "--window-size=1280,900",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """The browser named by $LSM_CHROMIUM, else the first of CANDIDATES on PATH, else None."""
    named = os.environ.get("LSM_CHROMIUM")
    if named:
        return shutil.which(named)  # a name on PATH or a path to an executable
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    pass


class Chromium:
    """One headless browser process and its protocol pipe."""

    def __init__(self, executable: str, profile_dir: Path, log_path: Path):
        # Chromium reads fd 3 and writes fd 4. Move our pipe ends above 9 first, so that the
        # dup2 onto 3 and 4 in the child can never overwrite the other end.
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            self.pid = os.posix_spawn(
                executable,
                [executable, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, devnull, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                    (os.POSIX_SPAWN_DUP2, high[0], 3),
                    (os.POSIX_SPAWN_DUP2, high[1], 4),
                ],
                setsid=True,  # its own process group: close() ends the browser and its helpers
            )
        finally:
            for fd in (*high, log, devnull):
                os.close(fd)
        self._write_fd, self._read_fd = to_browser_w, from_browser_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []  # every event received, in order; Page reads its own

    # -- protocol ------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._write_fd, data) :]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply is None:
                raise CDPError(f"no answer to {method} within {timeout} s")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (event := self._read(deadline)) is not None:
            if "method" in event:
                self.events.append(event)

    def _read(self, deadline: float) -> dict | None:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read_fd], [], [], left)[0]:
                return None
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise CDPError("Chromium closed its protocol pipe (see its log)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    # -- pages ---------------------------------------------------------------------------
    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (CDPError, OSError):
            pass
        for fd in (self._write_fd, self._read_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                return
            time.sleep(0.05)
        os.killpg(self.pid, signal.SIGKILL)  # the group we created with setsid, nothing else
        os.waitpid(self.pid, 0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One tab; records its requests, failures and console errors per navigation."""

    def __init__(self, browser: Chromium, session: str):
        self.browser, self.session = browser, session
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self._seen = len(browser.events)

    def send(self, method: str, params: dict | None = None, timeout: float = 30):
        return self.browser.send(method, params, self.session, timeout)

    def events(self) -> list[dict]:
        """This tab's events since the last goto()."""
        return [e for e in self.browser.events[self._seen :] if e.get("sessionId") == self.session]

    def goto(self, url: str, timeout: float = 30) -> None:
        self._seen = len(self.browser.events)
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self.events()):
            if time.monotonic() > deadline:
                raise CDPError(f"{url} did not finish loading within {timeout} s")
            self.browser.pump(0.05)

    def evaluate(self, expression: str, timeout: float = 30):
        """The value of a JavaScript expression; a promise is awaited."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression[:80]!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise CDPError(f"timed out after {timeout} s waiting for {what or expression}")
            self.browser.pump(0.05)

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events() if e["method"] == "Network.requestWillBeSent"]

    def problems(self) -> list[str]:
        """Failed requests, HTTP errors, console errors and uncaught exceptions since goto()."""
        found = []
        urls = {}
        for e in self.events():
            p = e.get("params", {})
            if e["method"] == "Network.requestWillBeSent":
                urls[p["requestId"]] = p["request"]["url"]
            elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
                found.append(f"request failed: {urls.get(p['requestId'], '?')} ({p.get('errorText')})")
            elif e["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
                found.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                found.append(f"console.{p['type']}: {text}")
            elif e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                found.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                found.append(f"log error: {p['entry']['text']} {p['entry'].get('url', '')}".rstrip())
        return found

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        """A JPEG of what the window shows (1280 x 900), or of the whole page: a full-page
        capture of a long notebook page takes seconds to encode."""
        params = {"format": "jpeg", "quality": 80}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 30000), "scale": 1}
            params.update(captureBeyondViewport=True, clip=clip)
        data = self.send("Page.captureScreenshot", params, timeout=60)
        path.write_bytes(base64.b64decode(data["data"]))
