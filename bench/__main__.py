"""`make bench`: every benchmark in turn, each printing its table."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    ["bench.create_api"],
    ["bench.render_floor", "--rounds", "100"],
    ["bench.pipeline"],
)


def main() -> int:
    for args in BENCHMARKS:
        print(f"\n$ python -m {' '.join(args)}", flush=True)
        code = subprocess.call([sys.executable, "-m", *args])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
