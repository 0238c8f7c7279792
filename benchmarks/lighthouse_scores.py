"""Lighthouse's accessibility and best-practices scores (0-100) for pages, in light and dark mode.

Run: .venv/bin/python benchmarks/lighthouse_scores.py URL [URL ...] [--mode light|dark|both]
         [--desktop] [--categories accessibility,best-practices] [--min 95]

Not part of `make test`: a run takes 10-20 s per page and mode. The suite checks accessibility
with axe-core (tests/browser.py); this prints the figure a person quotes, with the audits that
failed. It drives Debian's /usr/bin/chromium (CHROME_PATH) with the suite's flags, dark mode
through --force-dark-mode, and works offline: Lighthouse loads only the pages given. Lighthouse
comes from the npm registry, installed on first use into .venv/lighthouse (major version 12:
13 needs Node.js 22). Exits 1 when a score is below --min.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.browser import CHROMIUM, FLAGS  # noqa: E402

LIGHTHOUSE = "lighthouse@12"
PREFIX = REPO / ".venv/lighthouse"
BIN = PREFIX / "node_modules/.bin/lighthouse"


def install(console: Console) -> None:
    if BIN.exists():
        return
    if shutil.which("npm") is None:
        sys.exit("npm is missing: Lighthouse is installed from the npm registry (apt-get install npm)")
    console.print(f"installing {LIGHTHOUSE} from npm into {PREFIX} (once, about 190 MB)", markup=False)
    PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(PREFIX), LIGHTHOUSE, "--no-audit", "--no-fund", "--loglevel=error"],
                   check=True)


def run(url: str, *, dark: bool, desktop: bool, categories: list[str]) -> dict:
    flags = [*FLAGS] + (["--force-dark-mode"] if dark else [])
    cmd = [str(BIN), url, f"--only-categories={','.join(categories)}", "--output=json", "--output-path=stdout",
           "--quiet", f"--chrome-flags={' '.join(flags)}"]
    if desktop:
        cmd.append("--preset=desktop")
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
                          timeout=300)
    if done.returncode != 0:
        sys.exit(f"lighthouse failed on {url} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    if report.get("runtimeError"):
        sys.exit(f"lighthouse could not audit {url}: {report['runtimeError'].get('message')}")
    return report


def failed_audits(report: dict, category: str) -> list[str]:
    audits = report["audits"]
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
            items = (audit.get("details") or {}).get("items", [])
            value = f" {audit['displayValue']}" if audit.get("displayValue") else ""  # "2.1 s", "1,234 elements"
            lines.append(f"{audit['id']}: {audit['title']}{value} (score {audit['score']:.2f})"
                         + (f" ({len(items)} items)" if items else ""))
            for item in items[:3]:  # what to fix: the element, or the console message
                what = (item.get("node") or {}).get("snippet") or item.get("description") or item.get("url") or ""
                lines.append(f"    {what[:200]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--mode", choices=["light", "dark", "both"], default="both")
    parser.add_argument("--desktop", action="store_true", help="desktop form factor (default: a phone, as Lighthouse)")
    parser.add_argument("--categories", default="accessibility,best-practices")
    parser.add_argument("--min", type=float, default=None, help="exit 1 when a score is below this (0-100)")
    args = parser.parse_args()
    console = Console()
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium (or `make chromium`)")
    install(console)
    categories = args.categories.split(",")
    modes = ["light", "dark"] if args.mode == "both" else [args.mode]
    table = Table("mode", *categories, title=f"Lighthouse ({'desktop' if args.desktop else 'mobile'})")
    table.add_column("page", overflow="fold")  # last, whole: a URL cut short names another page
    below = False
    for url in args.urls:
        for mode in modes:
            report = run(url, dark=mode == "dark", desktop=args.desktop, categories=categories)
            scores = [round(100 * (report["categories"][c]["score"] or 0)) for c in categories]
            below |= args.min is not None and min(scores) < args.min
            table.add_row(mode, *map(str, scores), url)
            for category in categories:
                for line in failed_audits(report, category):
                    console.print(f"  {url} ({mode}) {category}: {line}", markup=False, highlight=False, soft_wrap=True)
    console.print(table)
    if below:
        sys.exit(f"a score is below {args.min}")


if __name__ == "__main__":
    main()
