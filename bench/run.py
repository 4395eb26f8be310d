"""`make bench`: every benchmark in bench/, one after another. Figures are ratios measured within
one run (absolute times depend on the machine); none of this is part of the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in [*sorted(BENCH.glob("bench_*.py")), BENCH / "cold_init.py"]:
        print(f"\n== {script.name}", flush=True)
        failures += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
