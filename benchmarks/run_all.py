"""`make bench`: the speed harness and the extents benchmark in one go (not a test).

Quick by default so it finishes in minutes on a 2-core box; pass --full for the 720p/1080p x
1/5/10-minute matrix (clip generation alone takes ~15 min the first time, cached afterwards).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="720p/1080p x 1/5/10 min and 16 extents clips")
    a = ap.parse_args()
    runs = [
        [os.path.join(HERE, "pipeline_bench.py")] + ([] if a.full else ["--quick"]),
        [os.path.join(HERE, "extents_bench.py"), "--clips", "16" if a.full else "4"],
    ]
    for argv in runs:
        print(f"\n$ {' '.join([os.path.relpath(argv[0])] + argv[1:])}", flush=True)
        rc = subprocess.call([sys.executable] + argv)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
