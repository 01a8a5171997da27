"""Start-up time of the command line: ``activelab --help`` against Python's own start-up.

One command::

    PYTHONPATH=src python3 benchmarks/cli_startup.py --repeats 15

Runs, interleaved and ``--repeats`` times each, ``python3 -c pass`` (the lower
bound: the interpreter alone), ``python3 -m activelab --help``,
``python3 -m activelab demo --help`` and ``python3 -m activelab simulate --help``
as fresh processes, and reports the median wall time of each with the load
average at the start and end (a busy machine stretches every number). Also
records which heavy modules ``import activelab.cli`` loads (none is the goal),
and the time of the installed ``activelab`` console script when it is on PATH.
Writes ``benchmarks/results/cli_startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _machine import cpu_model

HEAVY = ("sklearn", "numpy", "scipy", "pandas", "rich", "sqlalchemy", "matplotlib", "joblib")
TARGET_S = 0.5


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "cli_startup.json"
    )
    args = parser.parse_args()
    py = sys.executable
    cases = {
        "python -c pass (lower bound)": [py, "-c", "pass"],
        "activelab --help": [py, "-m", "activelab", "--help"],
        "activelab demo --help": [py, "-m", "activelab", "demo", "--help"],
        "activelab simulate --help": [py, "-m", "activelab", "simulate", "--help"],
    }
    script = shutil.which("activelab")
    if script:
        cases["activelab --help (console script)"] = [script, "--help"]
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, cmd in cases.items():  # interleaved: load changes hit every case alike
            times[name].append(_time(cmd))
    load_after = os.getloadavg()
    probe = subprocess.run(
        [py, "-c", f"import sys, activelab.cli; print([m for m in {HEAVY!r} if m in sys.modules])"],
        capture_output=True,
        text=True,
        check=True,
    )
    medians = {name: statistics.median(v) for name, v in times.items()}
    base = medians["python -c pass (lower bound)"]
    print(f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}; {args.repeats} runs each")
    for name, m in medians.items():
        print(f"{name:>36}: median {m:.3f} s  (min {min(times[name]):.3f}, +{m - base:.3f} s)")
    print(f"heavy modules loaded by `import activelab.cli`: {probe.stdout.strip()}")
    ok = all(m < TARGET_S for n, m in medians.items() if n.startswith("activelab"))
    print(f"every activelab command under {TARGET_S} s (median): {ok}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": f"PYTHONPATH=src python3 benchmarks/cli_startup.py --repeats "
                f"{args.repeats}",
                "machine": {
                    "cpu": cpu_model(),
                    "cores": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "load_average": {"start": load_before, "end": load_after},
                "repeats": args.repeats,
                "median_s": medians,
                "all_s": times,
                "heavy_modules_after_import": probe.stdout.strip(),
                "target_s": TARGET_S,
                "all_under_target": ok,
            },
            indent=1,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
