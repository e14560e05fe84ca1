"""Check the built HTML as a browser lays it out: every equation typeset by MathJax, no raw
TeX left, no code block or sidebar wider than its column, no request that leaves the
machine. Needs Chromium (``apt-get install chromium``); without it, says so and exits 0.

    python docs/check_pages.py docs/_build/html [--width 1280]

The site is copied and each page given a small script that measures it after MathJax has run
and writes the findings into the page; ``chromium --headless --dump-dom`` prints the result.
Network access is cut by pointing the browser at a proxy that does not exist.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
<script>
const typeset = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise : Promise.resolve();
window.addEventListener("load", () => setTimeout(() => typeset().then(() => {
  const wide = el => el.scrollWidth > el.clientWidth + 1;
  const body = document.querySelector("div.body");
  const side = document.querySelector("div.sphinxsidebar");
  const prose = body ? body.cloneNode(true) : null;  // raw TeX in code blocks is meant
  if (prose) prose.querySelectorAll("pre, code").forEach(e => e.remove());
  const text = prose ? prose.textContent : "";
  const out = {
    typeset: document.querySelectorAll("mjx-container").length,
    raw_tex: (text.match(/\\\(|\\\[|\\begin\{|\\leftarrow|\\frac/g) || []).length,
    mathjax_errors: document.querySelectorAll("mjx-merror").length,
    // a block whose lines fit the project's 100 columns must fit the column; a longer
    // line (an exception's message in a doctest) scrolls inside its block
    wide_code: [...document.querySelectorAll("div.body pre")]
                 .filter(p => Math.max(...p.innerText.split("\n").map(l => l.length)) <= 100)
                 .filter(wide)
                 .map(p => p.innerText.split("\n").find(l => l.length > 0).slice(0, 60)),
    wide_body: body ? body.scrollWidth > body.clientWidth + 1 : false,
    sidebar_scrolls: side ? wide(side) || wide(side.firstElementChild || side) : false,
  };
  const pre = document.createElement("pre");
  pre.id = "plastix-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}), 500));
</script>
"""


def check(page: Path, browser: str, width: int) -> dict[str, object]:
    """Load ``page`` (a copy that carries the probe) and read what the probe found."""
    proc = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         f"--window-size={width},1000", "--virtual-time-budget=10000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="plastix-check">(.*?)</pre>', proc.stdout, re.S)
    if not found:
        return {"error": "the page did not report (did it load?)"}
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def problems(page: str, result: dict[str, object], has_math: bool) -> list[str]:
    out = []
    if "error" in result:
        return [f"{page}: {result['error']}"]
    if has_math and not result["typeset"]:
        out.append(f"{page}: no equation was typeset")
    if result["raw_tex"]:
        out.append(f"{page}: {result['raw_tex']} pieces of raw TeX are shown")
    if result["mathjax_errors"]:
        out.append(f"{page}: {result['mathjax_errors']} equations failed to typeset")
    for line in result["wide_code"]:  # type: ignore[attr-defined]
        out.append(f"{page}: a code block is wider than the column: {line!r}")
    if result["wide_body"]:
        out.append(f"{page}: the text column scrolls sideways")
    if result["sidebar_scrolls"]:
        out.append(f"{page}: the sidebar scrolls sideways")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    if browser is None:
        print("check_pages: no Chromium here; the pages were not checked in a browser")
        return 0
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(args.html, site, symlinks=True)
        pages = sorted(p for p in site.rglob("*.html")
                       if "_static" not in p.parts and p.name not in ("genindex.html",
                                                                      "search.html"))
        for page in pages:
            html = page.read_text()
            page.write_text(html.replace("</body>", PROBE + "</body>"))
            name = str(page.relative_to(site))
            result = check(page, browser, args.width)
            failures += problems(name, result, 'class="math' in html)
            print(f"{name}: {result}")
    for line in failures:
        print(f"check_pages: {line}", file=sys.stderr)
    print(f"check_pages: {len(pages)} pages, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
