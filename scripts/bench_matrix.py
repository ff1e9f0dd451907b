"""Benchmark the Stackelberg matrix games: env speed relative to CartPole-v1, exact-solver times (LPs, DOBSS MILP).

    python scripts/bench_matrix.py            # full run (about a minute), prints a Markdown report
    python scripts/bench_matrix.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_matrix.py --quick    # smoke run (seconds)

Targets (reported as met / NOT met, never adjusted): every scalar Matrix* env at least 0.3x CartPole-v1's steps/s;
the exact solver under 1 s for one follower type at m = n = 50 and for 5 types at m = n = 10 (median instance).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import stratgym  # noqa: F401  (registers the envs)
from _bench_common import (EnvSpec, common_arguments, env_speed_table, env_speeds, machine_description,
                           markdown_table, median, progress_bar, publish, seconds, time_call, verdict)
from stratgym.baselines.matrix import solve
from stratgym.games.matrix import conitzer_sandholm, random_matrix_game

SECTION = "bench_matrix"
ENV_RATIO_TARGET = 0.3
SOLVER_TARGET_SECONDS = 1.0
#: (types, actions per player) whose median solve time is held to ``SOLVER_TARGET_SECONDS``.
SOLVER_TARGETS = ((1, 50), (5, 10))

FULL = {"repeats": 5, "min_time": 1.0, "sizes": ((1, 5), (1, 20), (1, 50), (2, 5), (2, 10), (5, 5), (5, 10)),
        "instances": 10}
QUICK = {"repeats": 2, "min_time": 0.05, "sizes": ((1, 5), (2, 5)), "instances": 2}


def env_section(settings: dict, progress: bool) -> str:
    """Steps/s of both Matrix* envs (default instance: security_game, 2 types) and of the commitment env on a 2x2 game."""
    specs = [EnvSpec(env_id, lambda env_id=env_id: gym.make(env_id))
             for env_id in ("stratgym/MatrixCommitment-v0", "stratgym/MatrixFollower-v0")]
    specs.append(EnvSpec("stratgym/MatrixCommitment-v0 (conitzer_sandholm)",
                         lambda: gym.make("stratgym/MatrixCommitment-v0", game=conitzer_sandholm())))
    reference, rows = env_speeds(specs, settings["repeats"], settings["min_time"], progress)
    return ("### Env speed\n\nDefault arguments unless named (security_game: 3 targets, 2 attacker types; the follower env "
            f"faces the optimal commitment), actions pre-sampled, resets included, median of {settings['repeats']} "
            f"repeats of ≥ {settings['min_time']:g} s each. Both envs are one-step episodes.\n\n"
            + env_speed_table(reference, rows, ENV_RATIO_TARGET))


def solver_section(settings: dict, progress: bool) -> tuple[str, bool | None]:
    """Median and max solve time over random games (payoffs uniform in [0, 1]) per (types, m = n)."""
    rows, met = [], None
    with progress_bar(len(settings["sizes"]) * settings["instances"], "solver", progress) as bar:
        for types, size in settings["sizes"]:
            times = []
            for seed in range(settings["instances"]):
                game = random_matrix_game(np.random.default_rng([5, seed]), size, size, types)
                times.extend(time_call(lambda: solve(game), 1))
                bar.update()
            method = "LP per column" if types == 1 else "DOBSS MILP + LP"
            target = "—"
            if (types, size) in SOLVER_TARGETS:
                ok = median(times) < SOLVER_TARGET_SECONDS
                met = ok if met is None else met and ok
                target = f"< {SOLVER_TARGET_SECONDS:g} s: {verdict(ok)}"
            rows.append((types, size, method, seconds(median(times)), seconds(max(times)), target))
    text = (f"### Exact solver\n\n`baselines.matrix.solve` on {settings['instances']} random games per row (m = n, "
            "payoffs uniform in [0, 1], Dirichlet type prior).\n\n"
            + markdown_table(("types K", "m = n", "method", "median", "max", "target"), rows))
    return text, met


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    settings = QUICK if args.quick else FULL
    progress = not args.no_progress
    solver_text, solver_met = solver_section(settings, progress)
    parts = [f"## Stackelberg matrix games{' (quick smoke run)' if args.quick else ''}", machine_description(),
             env_section(settings, progress), solver_text]
    if solver_met is not None:
        parts.append(f"Target: exact solver under {SOLVER_TARGET_SECONDS:g} s for K = 1, m = n = 50 and K = 5, "
                     f"m = n = 10 — {verdict(solver_met)}.")
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
