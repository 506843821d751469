"""Run every benchmark and rewrite its latest table in bench/RESULTS.md (what `make bench` does).

    python bench/all.py [--only checkins push ...] [--no-write]

Each benchmark prints only its table (servers' logs go to files, progress to stderr), so what it
prints is what goes in. In RESULTS.md each one's latest run sits between two markers,
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, under its section's heading; the prose below
them (history, what was changed, why a target is missed) is written by hand and left alone. Each
run is stamped with the date, the machine and the exact command.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, machine

RESULTS = ROOT / "bench" / "RESULTS.md"

# name: the script's arguments. Every one measures its ratios over at least three runs.
BENCHES: dict[str, list[str]] = {
    "checkins": ["bench/checkins.py", "--seconds", "10", "--rounds", "3"],
    "nightly": ["bench/nightly.py", "--sizes", "10000", "100000", "--runs", "3"],
    "push": ["bench/push.py", "--subscriptions", "2000", "--runs", "3"],
    "roster": ["bench/roster.py", "--seconds", "10", "--rounds", "3"],
    "load": ["bench/load.py", "--probe-seconds", "10", "--seconds", "60", "--share", "0.8"],
    "wire": ["bench/wire.py", "--rounds", "3"],
    "webhooks": ["bench/webhooks.py", "--deliveries", "2000", "--runs", "3"],
}


def run(name: str) -> str:
    command = ["python", *BENCHES[name]]
    print(f"== {name}: {' '.join(command)}", file=sys.stderr, flush=True)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    out = subprocess.run([sys.executable, *BENCHES[name]], cwd=ROOT, check=True,
                         capture_output=False, stdout=subprocess.PIPE, text=True).stdout
    took, load_after = time.monotonic() - started, os.getloadavg()[0]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Latest run: {stamp}, {took / 60:.0f} min, by `make bench`. Command: "
            f"`.venv/bin/python {' '.join(BENCHES[name])}`. Machine: {machine()}; load average "
            f"{load_before:.1f} before, {load_after:.1f} after (other work shares the cores: "
            "read the ratios).\n\n"
            + out.strip() + "\n")


def rewrite(text: str, name: str, body: str) -> str:
    """Replace the block between the markers of `name`; a section without them gets them."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body}{end}"
    if start in text:
        pattern = re.escape(start) + r".*?" + re.escape(end)
        return re.sub(pattern, lambda _: block, text, count=1, flags=re.S)
    heading = re.search(rf"^## .*`bench/{name}\.py`.*$", text, flags=re.M)
    if heading is None:
        return text.rstrip("\n") + f"\n\n## `bench/{name}.py`\n\n{block}\n"
    return text[:heading.end()] + f"\n\n{block}" + text[heading.end():]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), default=list(BENCHES))
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md be")
    options = parser.parse_args()
    for name in options.only:
        body = run(name)
        print(body)
        if not options.no_write:  # after each one: a later failure keeps what was measured
            RESULTS.write_text(rewrite(RESULTS.read_text(), name, body))


if __name__ == "__main__":
    main()
