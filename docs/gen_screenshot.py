"""Screenshots of the demo's HTML report, for the README and the docs.

    .venv/bin/python docs/gen_screenshot.py

Runs the demo suite (examples/demo, whose /reports requirement fails on
purpose) with two declared requirements that carry deadlines, as of a fixed
day, so that the timeline has something to show; writes its HTML report to a
temporary directory and photographs it with Playwright driving the system
Chromium (``apt-get install chromium``; Playwright's own browser download is
not used). The images go to docs/images/.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
AS_OF = "2027-01-15"
DECLARED = ("h2 /v2/orders after=2026-12-01", "h2 /reports after=2027-06-30")


def demo_report(directory: pathlib.Path) -> pathlib.Path:
    page = directory / "report.html"
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
        f"--upgrade-html={page}", f"--upgrade-as-of={AS_OF}",
        *(f"--upgrade-require={line}" for line in DECLARED),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT / "examples" / "demo", check=False, capture_output=True)
    if not page.exists():
        raise SystemExit("gen_screenshot.py: the demo suite did not write its HTML report")
    return page


def photograph(page_path: pathlib.Path, chromium: str) -> list[pathlib.Path]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (a development tool)

    IMAGES.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            desktop = browser.new_page(viewport={"width": 1200, "height": 1060})
            desktop.goto(page_path.as_uri())
            written.append(IMAGES / "html-report.png")
            desktop.screenshot(path=written[-1])
            failing = desktop.locator("article.requirement[data-verdict=failed]").first
            written.append(IMAGES / "html-report-failure.png")
            failing.screenshot(path=written[-1])
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.goto(page_path.as_uri())
            written.append(IMAGES / "html-report-phone.png")
            phone.screenshot(path=written[-1])
        finally:
            browser.close()
    return written


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("gen_screenshot.py: no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        for image in photograph(demo_report(pathlib.Path(scratch)), chromium):
            print(f"wrote {image.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
