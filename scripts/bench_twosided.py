"""Benchmark two-sided learning: where independent learners on both sides end, per game, against the Stackelberg optimum.

    python scripts/bench_twosided.py            # full run (about an hour on 2 cores), prints a Markdown report
    python scripts/bench_twosided.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_twosided.py --quick    # smoke run (a minute or two)
    python scripts/bench_twosided.py --write --jobs 2   # runs in 2 processes (same numbers: each run is seeded)

For every instance: the Stackelberg order (``moves=sequential``, the AEC env) under each schedule of
:mod:`stratgym.agents.twosided`, the simultaneous-move game (the parallel env) under ``simultaneous``, and for
persuasion a Hedge agent (full-information no-regret follower) against a PPO principal. Each row: the principal's
value of the final policies over seeds (mean ± sd), the optimum, their ratio, the agent's and principal's regrets
against each other's final policy, and where the runs ended (the runner's verdict, counted over seeds). Nothing
here is adjusted to look good: a run that ends at a Nash outcome or does not converge says so.
"""

from __future__ import annotations

import collections
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from _bench_common import common_arguments, machine_description, markdown_table, progress_bar, publish, seconds
from stratgym.agents.twosided import SCHEDULES, train_two_sided
from stratgym.games.credit import synthetic_credit
from stratgym.games.persuasion import prosecutor
from stratgym.games.matrix import conitzer_sandholm, security_game
from stratgym.games.stateful import classroom, classroom_project

SECTION = "bench_twosided"
#: label -> (multiagent module, instance factory).
INSTANCES = {
    "stateful classroom_project(5)": ("stateful_v0", lambda: classroom_project(5)),
    "stateful classroom(3)": ("stateful_v0", lambda: classroom(3)),
    "persuasion prosecutor()": ("persuasion_v0", prosecutor),
    "persuasion synthetic_credit()": ("persuasion_v0", synthetic_credit),
    "matrix security_game()": ("matrix_v0", security_game),
    "matrix conitzer_sandholm()": ("matrix_v0", conitzer_sandholm),
}
FULL = {"instances": tuple(INSTANCES), "rounds": 8192, "n_steps": 128, "seeds": (0, 1)}
QUICK = {"instances": ("stateful classroom(3)", "persuasion prosecutor()", "matrix conitzer_sandholm()"), "rounds": 1024, "n_steps": 64,
         "seeds": (0,)}


def configurations(game: str) -> list[dict]:
    """The runs of one instance: every schedule in the Stackelberg order, the simultaneous-move game, a Hedge agent."""
    runs = [{"moves": "sequential", "schedule": schedule, "agent": "ppo"} for schedule in SCHEDULES]
    runs.append({"moves": "simultaneous", "schedule": "simultaneous", "agent": "ppo"})
    if game in ("persuasion_v0", "matrix_v0"):  # the games that reveal the agent's full-information feedback
        runs.append({"moves": "sequential", "schedule": "simultaneous", "agent": "hedge"})
    return runs


def _mean_sd(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.3f}" + (f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else "")


def _ends(labels: list[str]) -> str:
    """How the seeds ended, e.g. ``3× Stackelberg optimum`` or ``2× not converged; 1× Nash ...``."""
    return "; ".join(f"{count}× {label}" for label, count in collections.Counter(labels).most_common())


def _short(verdict: str) -> str:
    """The runner's verdict without its details: ``Stackelberg optimum``, ``Nash equilibrium below the optimum``,
    ``not converged`` or ``below the optimum, the agent best-responding``."""
    return verdict.split(":")[0].split(" (")[0].split("; the principal could")[0]


def _train(task: tuple[str, dict, int, dict]):
    """One seeded run (a process-pool task): ``(label, config, seed, settings)`` -> its ``TwoSidedResult``."""
    label, config, seed, settings = task
    game, make = INSTANCES[label]
    return train_two_sided(game, make(), rounds=settings["rounds"], n_steps=settings["n_steps"], seed=seed, **config)


def run(settings: dict, progress: bool, jobs: int = 1) -> tuple[str, float]:
    """The benchmark table (Markdown) and the total training seconds; ``jobs`` processes train the runs."""
    planned = [(label, config) for label in settings["instances"] for config in configurations(INSTANCES[label][0])]
    tasks = [(label, config, seed, settings) for label, config in planned for seed in settings["seeds"]]
    bar = progress_bar(len(tasks), "two-sided runs", progress)
    with ProcessPoolExecutor(jobs) as pool:
        done = []
        for result in pool.map(_train, tasks):
            done.append(result)
            bar.update(1)
    bar.close()
    total = sum(result.wall_time for result in done)
    rows, n_seeds = [], len(settings["seeds"])
    for index, (label, config) in enumerate(planned):
        results = done[index * n_seeds:(index + 1) * n_seeds]
        optimum = results[0].optimum
        values = [r.principal_value for r in results]
        ratio = _mean_sd([v / optimum for v in values]) if optimum else "—"
        rows.append((label, config["moves"], config["schedule"], config["agent"], _mean_sd(values), f"{optimum:.3f}",
                     ratio, _mean_sd([r.agent_regret for r in results]),
                     _mean_sd([r.principal_regret for r in results]), _ends([_short(r.verdict) for r in results]),
                     _ends([r.nearest_reference for r in results])))
    header = ("instance", "moves", "schedule", "agent", "principal value", "Stackelberg optimum", "value / optimum",
              "agent regret", "principal regret", "where the seeds ended", "nearest named outcome")
    return markdown_table(header, rows), total


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="processes that train the runs (default 1)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    settings = QUICK if args.quick else FULL
    started = time.perf_counter()
    table, training = run(settings, not args.no_progress, args.jobs)
    notes = (f"{settings['rounds']} rounds of play per run, PPO updates every {settings['n_steps']} moves (the slow "
             f"side of fast-leader / fast-follower every 4×), seeds {list(settings['seeds'])}; training "
             f"{seconds(training)}, benchmark {seconds(time.perf_counter() - started)} ({args.jobs} process"
             f"{'es' if args.jobs > 1 else ''}). Regrets: each side's best "
             "response to the other's final policy minus what it gets (stateful principal: over plans of vertex "
             "rules, a lower bound). Verdicts: *Stackelberg optimum* (≥ 95% of it, the agent best-responding), "
             "*Nash equilibrium below the optimum* (both regrets under 5% of the payoff scale), *not converged* "
             "(the agent's regret above that). A value above the optimum comes with an agent that is not best-responding "
             "(the optimum assumes a rational agent).")
    parts = [f"## Two-sided learning{' (quick smoke run)' if args.quick else ''}", machine_description(), table, notes]
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
