"""Benchmark the Ray backend: the quick suite serial vs on a local Ray on this machine, wall time and same numbers.

    python scripts/bench_ray.py            # the quick suite as `stratgym benchmark --suite quick` runs it (minutes)
    python scripts/bench_ray.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_ray.py --quick    # smoke run: the quick suite's runs at 256 steps, 2 evaluation episodes

Both backends train the same runs into fresh folders (nothing resumed), serial first, then Ray with one run per
CPU (``--num-cpus``, default all cores). Reported: the wall time of each (Ray's start-up apart), the training
seconds summed over runs (on a loaded or small machine, runs training side by side each take longer), the speed-up,
and whether every record and summary row is identical apart from timings (it must be: same seeds, same numbers).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import stratgym  # noqa: F401  (registers the envs)
from _bench_common import common_arguments, machine_description, markdown_table, publish, seconds
from stratgym.agents.backends import RayBackend
from stratgym.agents.benchmark import SUITES, adjust_suite, run_benchmark

SECTION = "bench_ray"
#: Fields that hold how long something took: the only ones allowed to differ between the backends.
TIMINGS = {"wall_time", "train_time"}


def untimed(values: list[dict]) -> list[dict]:
    """``values`` without their :data:`TIMINGS` fields."""
    return [{key: value for key, value in item.items() if key not in TIMINGS} for item in values]


def differences(serial: Path, parallel: Path) -> list[str]:
    """What differs, apart from timings, between the run records and summary rows of two benchmark folders."""
    found = []
    names = sorted(path.name for path in (serial / "runs").iterdir())
    if names != sorted(path.name for path in (parallel / "runs").iterdir()):
        found.append("run folders")
    for name in names:
        records = [json.loads((out / "runs" / name / "record.json").read_text()) for out in (serial, parallel)]
        if untimed([records[0]]) != untimed([records[1]]):
            found.append(f"record {name}")
    rows = [json.loads((out / "summary.json").read_text())["rows"] for out in (serial, parallel)]
    if untimed(rows[0]) != untimed(rows[1]):
        found.append("summary rows")
    return found


def main() -> None:
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count(), help="CPUs of the local Ray (default: all)")
    args = parser.parse_args()
    suite = adjust_suite(SUITES["quick"], n_timesteps=256, n_eval_episodes=2) if args.quick else SUITES["quick"]
    progress = not args.no_progress
    machine = machine_description()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as folder:
        serial_out, ray_out = Path(folder) / "serial", Path(folder) / "ray"
        serial = run_benchmark(suite, serial_out, progress=progress)
        start = time.perf_counter()
        with RayBackend(num_cpus=args.num_cpus) as backend:
            startup = time.perf_counter() - start
            parallel = run_benchmark(suite, ray_out, progress=progress, backend=backend)
        found = differences(serial_out, ray_out)
    runs = serial.trained
    rows = [("serial (this process)", runs, seconds(serial.wall_time), "—",
             seconds(sum(row.train_time for row in serial.rows)), "1.00×"),
            (f"Ray, local, {args.num_cpus} CPUs", runs, seconds(parallel.wall_time), seconds(startup),
             seconds(sum(row.train_time for row in parallel.rows)),
             f"{serial.wall_time / parallel.wall_time:.2f}× ({serial.wall_time / (parallel.wall_time + startup):.2f}× "
             "with start-up)")]
    budget = "every run at 256 steps, 2 evaluation episodes (--quick)" if args.quick else "its own budgets"
    same = ("**identical**: every record and summary row equal apart from timings" if not found
            else "**DIFFERENT**: " + ", ".join(found))
    publish([f"## Serial vs Ray: the `{suite.name}` suite ({budget}, {len(suite.seeds)} seeds)", machine,
             markdown_table(("backend", "runs", "wall time", "Ray start-up", "training time summed over runs",
                             "speed-up vs serial"), rows),
             f"Numbers, serial vs Ray: {same}. Wall time: the whole `run_benchmark` (exact references, training, "
             "outputs), runs trained from scratch in both; Ray's start-up (the local Ray) is apart, but its wall time "
             "includes its workers' first tasks, which import torch and SB3 and warm them up: that overhead dominates "
             "runs of a few seconds and is paid once per worker. "
             "On a cluster, slots grow with the nodes' CPUs; the driver writes every result."], SECTION, args.write)
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
