"""Benchmark the stateful game: env speed relative to CartPole-v1, best-response and exact-solver times.

    python scripts/bench_stateful.py            # full run (about a minute), prints a Markdown report
    python scripts/bench_stateful.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_stateful.py --quick    # smoke run (seconds)

    python scripts/bench_stateful.py --tail-only --seeds 100 --horizons 50   # just the solver-tail table

Targets (reported as met / NOT met, never adjusted): every scalar Stateful* env at least 0.3x CartPole-v1's
steps/s; the exact solver (MILP) under 1 s for T = 20, d = 3 (classroom, and the slowest random instance); the
solver tail (issue 13): ``solve(random_game(default_rng(s), horizon=50, n_features=3, n_efforts=4))`` proven
optimal within 10 s for every seed s = 0..99, median at most 0.2 s (T = 20 and T = 100 reported beside it).
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

import stratgym  # noqa: F401  (registers the envs)
from _bench_common import (EnvSpec, common_arguments, env_speed_table, env_speeds, machine_description,
                           markdown_table, median, progress_bar, publish, seconds, time_call, verdict)
from stratgym.baselines.stateful import brute_force_optimum, milp_optimum, solve
from stratgym.games.stateful import best_response, classroom, random_game, uniform_rule

SECTION = "bench_stateful"
ENV_RATIO_TARGET = 0.3
MILP_TARGET_HORIZON, MILP_TARGET_SECONDS = 20, 1.0
#: Stop a MILP after this many seconds (reported as "> limit" instead of blocking the run).
MILP_TIME_LIMIT = 60.0
#: The solver-tail target: every seed proven optimal within TAIL_SECONDS at T = TAIL_HORIZON, median at most
#: TAIL_MEDIAN_SECONDS; solves are stopped at TAIL_SECONDS (their certified gap is then reported).
TAIL_HORIZON, TAIL_SECONDS, TAIL_MEDIAN_SECONDS = 50, 10.0, 0.2

FULL = {"tail_seeds": 100, "tail_horizons": (20, 50, 100), "repeats": 5, "min_time": 1.0, "vector_envs": 64, "response_horizons": (5, 20, 50),
        "milp_horizons": (5, 10, 20, 50),
        "random_instances": 10, "solver_repeats": 3, "brute_force_horizons": (2, 3, 4, 5), "brute_force_random": 3}
QUICK = {"tail_seeds": 5, "tail_horizons": (20, 50), "repeats": 2, "min_time": 0.05, "vector_envs": 8, "response_horizons": (5,), "milp_horizons": (5, 20),
         "random_instances": 2, "solver_repeats": 1, "brute_force_horizons": (2, 3), "brute_force_random": 1}


def env_section(settings: dict, progress: bool) -> str:
    """Steps/s of every Stateful* env (scalar through ``gym.make``; native vector envs apart) vs CartPole-v1."""
    specs = [EnvSpec(env_id, lambda env_id=env_id: gym.make(env_id))
             for env_id in ("stratgym/StatefulCommitment-v0", "stratgym/StatefulPrincipal-v0",
                            "stratgym/StatefulAgent-v0")]
    specs += [EnvSpec(f"{env_id} ×{settings['vector_envs']}",
                      lambda env_id=env_id: gym.make_vec(env_id, num_envs=settings["vector_envs"],
                                                         vectorization_mode="vector_entry_point"), vector=True)
              for env_id in ("stratgym/StatefulPrincipal-v0", "stratgym/StatefulAgent-v0")]
    reference, rows = env_speeds(specs, settings["repeats"], settings["min_time"], progress)
    return ("### Env speed\n\nDefault arguments (classroom_project, T = 5; `StatefulPrincipal`: myopic agent; `StatefulAgent`: "
            f"random principal), actions pre-sampled, resets included, median of {settings['repeats']} repeats of "
            f"≥ {settings['min_time']:g} s each. A `StatefulCommitment` step is a whole T-round game (the agent's "
            "full-horizon best response and the rollout); the other envs step one round.\n\n"
            + env_speed_table(reference, rows, ENV_RATIO_TARGET))


def response_section(settings: dict) -> str:
    """Time of one rational best response to the uniform rule: classroom with linear g per horizon, sqrt g at T = 5."""
    rows = []
    games = [(classroom(T), "linear") for T in settings["response_horizons"]]
    games.append((classroom(5, conversion="sqrt"), "sqrt"))
    for game, conversion in games:
        theta = uniform_rule(game)
        calls = 200 if game.is_linear else 3
        per_call = median(time_call(lambda: [best_response(game, theta) for _ in range(calls)],
                                    settings["solver_repeats"])) / calls
        rows.append((f"classroom, {conversion} g", game.horizon, seconds(per_call)))
    return ("### Best response (rational agent, uniform rule)\n\n"
            + markdown_table(("game", "T", "time per call (median)"), rows)
            + "\n\nLinear g: the game's cached marginal-value operator, one matrix–vector product, then the"
              " favoured argmax per round (ties relative to the round's scale). Concave g: SLSQP then"
              " Frank–Wolfe to duality gap 1e-7, then the LP that breaks the agent's ties in the principal's"
              " favour.")


def _milp_seconds(game, repeats: int) -> float:
    """Median MILP solve time of ``game``; ``inf`` if HiGHS hits :data:`MILP_TIME_LIMIT` before proving optimality."""
    proven = []
    times = time_call(lambda: proven.append(milp_optimum(game, time_limit=MILP_TIME_LIMIT).is_optimal), repeats)
    return median(times) if all(proven) else float("inf")


def tail_game(seed: int, horizon: int):
    """The solver-tail instance of issue 13: ``random_game(default_rng(seed), horizon, n_features=3, n_efforts=4)``."""
    return random_game(np.random.default_rng(seed), horizon=horizon, n_features=3, n_efforts=4)


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (linear interpolation), as numpy computes it."""
    return float(np.percentile(values, q))


def tail_section(settings: dict, progress: bool) -> tuple[str, bool | None]:
    """Solve time of the exact solver over seeded random instances per horizon: median, p90, max, how many were
    proven optimal within :data:`TAIL_SECONDS` (the others stop there and report their certified gap), and
    whether the T = 50 target holds (when all 100 seeds are measured)."""
    seeds, horizons = range(settings["tail_seeds"]), settings["tail_horizons"]
    rows, slowest, target_met = [], [], None
    with progress_bar(len(seeds) * len(horizons), "solver tail", progress) as bar:
        for T in horizons:
            times, proven, gaps = [], 0, []
            for seed in seeds:
                start = time.perf_counter()
                result = solve(tail_game(seed, T), time_limit=TAIL_SECONDS)
                elapsed = time.perf_counter() - start
                times.append(elapsed)
                proven += result.is_optimal
                if not result.is_optimal:
                    gaps.append(result.certificate.optimality_gap)
                    slowest.append((T, seed, f"{seconds(elapsed)} (stopped)", f"{gaps[-1]:.3g}",
                                    result.diagnostics["milp_nodes"]))
                elif elapsed > 1.0:
                    slowest.append((T, seed, seconds(elapsed), "0", result.diagnostics["milp_nodes"]))
                bar.update()
            target = "—"
            if T == TAIL_HORIZON and len(seeds) >= 100:
                target_met = proven == len(seeds) and median(times) <= TAIL_MEDIAN_SECONDS
                target = verdict(target_met)
            rows.append((T, len(seeds), seconds(median(times)), seconds(percentile(times, 90)),
                         _shown_tail(max(times), proven == len(seeds)), f"{proven} of {len(seeds)}",
                         f"{max(gaps):.3g}" if gaps else "0", target))
    text = (f"### Exact solver tail: `solve(random_game(default_rng(s), horizon=T, n_features=3, n_efforts=4))`\n\n"
            f"Seeds s = 0..{len(seeds) - 1}, one solve each (rational agent, MILP), stopped at {TAIL_SECONDS:g} s: "
            "a stopped solve returns HiGHS's incumbent with its certified gap (value units). Target: every seed "
            f"proven optimal within {TAIL_SECONDS:g} s at T = {TAIL_HORIZON}, median ≤ {TAIL_MEDIAN_SECONDS:g} s.\n\n"
            + markdown_table(("T", "seeds", "median", "p90", "max", f"proven optimal ≤ {TAIL_SECONDS:g} s",
                              "largest gap", f"target (T = {TAIL_HORIZON})"), rows))
    if slowest:
        text += ("\n\nSolves over 1 s:\n\n"
                 + markdown_table(("T", "seed", "time", "gap", "B&B nodes"), slowest))
    return text, target_met


def _shown_tail(value: float, all_proven: bool) -> str:
    return seconds(value) if all_proven else f"{seconds(value)} (stopped at the {TAIL_SECONDS:g} s limit)"


def _shown(value: float) -> str:
    return f"> {MILP_TIME_LIMIT:g} s (time limit)" if value == float("inf") else seconds(value)


def milp_section(settings: dict, progress: bool) -> tuple[str, bool]:
    """Exact Stackelberg MILP time per horizon: classroom and random instances (n = 2, d = 3); and whether the
    T = 20 target holds (when T = 20 is measured)."""
    horizons, n_random = settings["milp_horizons"], settings["random_instances"]
    rows, target_met = [], None
    with progress_bar(len(horizons) * (1 + n_random), "MILP", progress) as bar:
        for T in horizons:
            room = _milp_seconds(classroom(T), settings["solver_repeats"])
            bar.update()
            randoms = []
            for seed in range(n_random):
                randoms.append(_milp_seconds(random_game(np.random.default_rng(seed), horizon=T),
                                             settings["solver_repeats"]))
                bar.update()
            worst = max(room, max(randoms))
            target = "—"
            if T == MILP_TARGET_HORIZON:
                target_met = worst < MILP_TARGET_SECONDS
                target = f"< {MILP_TARGET_SECONDS:g} s: {verdict(target_met)}"
            rows.append((T, _shown(room), _shown(median(randoms)), _shown(max(randoms)), target))
    text = ("### Exact solver: Stackelberg MILP (HiGHS), d = 3 effort types, n = 2 features\n\n"
            f"Median of {settings['solver_repeats']} solves per instance; random instances are "
            f"`random_game(default_rng(seed), horizon=T)` for seeds 0..{n_random - 1} (median and max over them).\n\n"
            + markdown_table(("T", "classroom", f"random ×{n_random}: median", "random: max", "target (T = 20)"),
                             rows))
    return text, target_met


def brute_force_section(settings: dict, progress: bool) -> str:
    """MILP vs brute force (all (d+1)^T pure policies, one membership LP each) at small T, same optimum checked."""
    rows = []
    horizons = settings["brute_force_horizons"]
    with progress_bar(len(horizons) * (2 + settings["brute_force_random"]), "MILP vs brute force", progress) as bar:
        for T in horizons:
            # Without retention studying is never incentivizable: brute force rejects every policy with study
            # (4^T - 3^T of them) before certifying one: close to its worst case.
            games = [("classroom", classroom(T)), ("classroom, no retention", classroom(T, retention=[0.0, 0.0, 0.0]))]
            games += [(f"random seed {seed}", random_game(np.random.default_rng(seed), horizon=T))
                      for seed in range(settings["brute_force_random"])]
            for name, game in games:
                exact, brute = milp_optimum(game), brute_force_optimum(game)
                milp_time = median(time_call(lambda: milp_optimum(game), settings["solver_repeats"]))
                brute_time = median(time_call(lambda: brute_force_optimum(game), settings["solver_repeats"]))
                agree = abs(exact.principal_value - brute.principal_value) <= 1e-6 * max(1.0, T)
                checked = brute.diagnostics["policies_checked"]
                rows.append((T, name, seconds(milp_time), seconds(brute_time), f"{brute_time / milp_time:.1f}×",
                             f"{checked} of {(game.n_efforts + 1) ** T}", "yes" if agree else "**NO**"))
                bar.update()
    return ("### MILP vs brute force (small T)\n\nBrute force tries the (d+1)^T = 4^T pure effort policies by "
            "decreasing principal value with one membership LP each and stops at the first one certified, so its "
            "time is the number of LPs it needed (worst case all 4^T) times about 2 ms.\n\n"
            + markdown_table(("T", "instance", "MILP", "brute force", "brute / MILP", "LPs solved", "same optimum"),
                             rows))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--tail-only", action="store_true", help="only the solver-tail table (not with --write)")
    parser.add_argument("--seeds", type=int, help="seeds of the solver-tail table (default 100, --quick 5)")
    parser.add_argument("--horizons", type=int, nargs="+", help="horizons of the solver-tail table")
    args = parser.parse_args(argv)
    if args.tail_only and args.write:
        parser.error("--tail-only writes no section: drop --write")
    settings = dict(QUICK if args.quick else FULL)
    settings["tail_seeds"] = args.seeds or settings["tail_seeds"]
    settings["tail_horizons"] = tuple(args.horizons or settings["tail_horizons"])
    progress = not args.no_progress
    header = machine_description()
    tail_text, tail_met = tail_section(settings, progress)
    tail_verdict = (f"Target: every seed proven optimal within {TAIL_SECONDS:g} s at T = {TAIL_HORIZON}, median ≤ "
                    f"{TAIL_MEDIAN_SECONDS:g} s — {verdict(tail_met)}." if tail_met is not None else "")
    if args.tail_only:
        print("\n\n".join(part for part in (header, tail_text, tail_verdict) if part))
        return 0
    milp_text, milp_met = milp_section(settings, progress)
    parts = [f"## Stateful game{' (quick smoke run)' if args.quick else ''}", header, env_section(settings, progress),
             response_section(settings), milp_text, brute_force_section(settings, progress), tail_text]
    if milp_met is not None:
        parts.append(f"Target: exact solver under {MILP_TARGET_SECONDS:g} s for T = {MILP_TARGET_HORIZON}, d = 3 — "
                     f"{verdict(milp_met)}.")
    if tail_verdict:
        parts.append(tail_verdict)
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
