"""Headless Chromium for the report tests: the page's height, and screenshots of its sections.

The report itself holds no script; a copy gets one that writes the measurements into the DOM,
which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["chromium", "measure", "screenshot"]

_PROBE = """<script>
window.addEventListener("load", () => {
  const out = {height: document.documentElement.scrollHeight, sections: {}};
  for (const el of document.querySelectorAll("section[id]")) {
    const r = el.getBoundingClientRect();
    out.sections[el.id] = {top: r.top + window.scrollY, height: r.height};
  }
  const pre = document.createElement("pre");
  pre.id = "prefc-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str | None:
    """The Chromium (or Chrome) executable, or None when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    exe = chromium()
    assert exe is not None
    return subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def measure(html: Path, *, width: int = 1280) -> dict:
    """The rendered page's height in CSS pixels and each ``section[id]``'s top and height.

    Args:
        html: The report file.
        width: The window's width.
    """
    text = html.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(text.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
        done = _run([f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()])
    match = re.search(r'<pre id="prefc-measure">(.*?)</pre>', done.stdout, re.S)
    assert match, done.stderr[-2000:]
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(html: Path, out: Path, *, width: int = 1280, height: int = 900) -> Path:
    """A PNG of the page's first ``height`` pixels.

    Args:
        html: The report file (or a copy scrolled to a section with a ``#fragment`` in ``html``).
        out: The PNG to write.
        width: The window's width.
        height: The window's height.
    """
    _run([f"--window-size={width},{height}", f"--screenshot={out}", html.as_uri()])
    assert out.is_file() and out.stat().st_size > 0
    return out
