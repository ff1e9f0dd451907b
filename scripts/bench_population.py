"""Benchmark populations: the population MILP's time against the number of agent types, and the per-applicant
signaling throughput of a persuasion population.

    python scripts/bench_population.py            # full run (minutes), prints a Markdown report
    python scripts/bench_population.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_population.py --quick    # smoke run (seconds)

No targets yet (issue 12 asks for the numbers): the rows say how the exact population optimum scales (one binary
per type, round and option: ``K T (d + 1)``) and how many applicants per second the exact reference solves.
"""

from __future__ import annotations

import numpy as np

from _bench_common import (common_arguments, machine_description, markdown_table, median, progress_bar, publish,
                           seconds, time_call)
from stratgym.baselines.applicants import population_signaling
from stratgym.baselines.population import population_milp
from stratgym.games.applicants import synthetic_applicants
from stratgym.games.population import random_population

SECTION = "bench_population"
#: Stop a MILP after this many seconds (reported as "> limit" instead of blocking the run).
MILP_TIME_LIMIT = 120.0

FULL = {"type_counts": (1, 5, 20, 50), "horizon": 10, "instances": 3, "repeats": 1, "applicants": 40}
QUICK = {"type_counts": (1, 5), "horizon": 10, "instances": 1, "repeats": 1, "applicants": 4}


def _milp_seconds(population) -> float:
    try:
        return median(time_call(lambda: population_milp(population, time_limit=MILP_TIME_LIMIT), 1))
    except RuntimeError:  # the time limit: HiGHS stopped before optimality
        return float("inf")


def milp_section(settings: dict, progress: bool) -> str:
    """Population MILP seconds per number of types at ``T = horizon`` (n = 2, d = 3, random populations)."""
    counts, T, instances = settings["type_counts"], settings["horizon"], settings["instances"]
    rows = []
    with progress_bar(len(counts) * instances, "population MILP", progress) as bar:
        for K in counts:
            times = []
            for seed in range(instances):
                times.append(_milp_seconds(random_population(np.random.default_rng(seed), n_types=K, horizon=T)))
                bar.update()
            shown = [f"> {MILP_TIME_LIMIT:g} s" if t == float("inf") else seconds(t)
                     for t in (median(times), max(times))]
            rows.append((K, K * T * 4, *shown))
    return (f"### Population MILP (HiGHS), T = {T}, n = 2 features, d = 3 effort types\n\n"
            f"`random_population(default_rng(seed), n_types=K, horizon={T})` for seeds 0..{instances - 1} (each type "
            "its own W, budget, retention, initial state; one principal), rational agents, one solve each, time "
            f"limit {MILP_TIME_LIMIT:g} s.\n\n"
            + markdown_table(("types K", "binaries K T (d+1)", f"median of {instances}", "max"), rows))


def throughput_section(settings: dict) -> str:
    """Applicants per second of the exact reference: regions + masses, then optimal signaling LP, per applicant."""
    n = settings["applicants"]
    population = synthetic_applicants(max_applicants=n)
    regions_time = median(time_call(lambda: [population.regions(i) for i in range(n)], 1))  # first call computes
    lp_time = median(time_call(lambda: population_signaling(population, ["optimal signaling"]), settings["repeats"]))
    rows = [("regions and masses (equivalence_regions)", seconds(regions_time / n), f"{n / regions_time:.1f}"),
            ("optimal signaling LP + metrics (regions cached)", seconds(lp_time / n), f"{n / lp_time:.1f}"),
            ("both", seconds((regions_time + lp_time) / n), f"{n / (regions_time + lp_time):.1f}")]
    return (f"### Persuasion population: per-applicant throughput\n\n{n} rejected applicants of "
            "`synthetic_applicants()` (A = 4 actions, Gaussian prior, orthant masses).\n\n"
            + markdown_table(("step", "per applicant", "applicants / s"), rows))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    settings = QUICK if args.quick else FULL
    progress = not args.no_progress
    parts = [f"## Populations{' (quick smoke run)' if args.quick else ''}", machine_description(),
             milp_section(settings, progress), throughput_section(settings)]
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
