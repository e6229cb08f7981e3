"""Take the README's screenshot: the home page with the demo data, 1280x900, in Debian's Chromium.

.venv/bin/python bench/screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from demo_site import CHROMIUM, CHROMIUM_ARGS, ROOT, demo_app, served
from playwright.sync_api import sync_playwright

VIEWPORT = {"width": 1280, "height": 900}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--path", default="/", help="page to take (default: the home page)")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"needs Debian's Chromium at {CHROMIUM}: apt-get install -y chromium")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with demo_app() as app, served(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url + args.path, wait_until="networkidle")
            page.screenshot(path=args.out)
        finally:
            browser.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
