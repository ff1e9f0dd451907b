"""Benchmark the persuasion game: optimal-signaling LP vs number of actions, the sampled epsilon-BIC
approximation vs number of samples, and env speed relative to CartPole-v1.

    python scripts/bench_persuasion.py            # full run (a few minutes), prints a Markdown report
    python scripts/bench_persuasion.py --write    # ... and replaces its section of BENCHMARKS.md
    python scripts/bench_persuasion.py --quick    # smoke run (seconds)

Targets (reported as met / NOT met, never adjusted): the exact signaling LP for 10 actions under 1 s (reported for
the LP alone and end to end, with the region enumeration and masses); every Persuasion* env at least 0.3x
CartPole-v1's steps/s. Instances: see INSTANCE_RULE (chosen so that signaling matters: no ties at value 0 or 1).
"""

from __future__ import annotations

import time
import warnings

import gymnasium as gym
import numpy as np

import stratgym  # noqa: F401  (registers the envs)
from _bench_common import (EnvSpec, common_arguments, env_speed_table, env_speeds, machine_description,
                           markdown_table, median, progress_bar, publish, seconds, time_call, verdict)
from stratgym.baselines.results import Z95
from stratgym.baselines.signaling import (BICViolationWarning, full_revelation, no_information, optimal_scheme,
                                          sampled_mechanism)
from stratgym.games.credit import synthetic_credit
from stratgym.games.persuasion import (Regions, enumerate_regions, equivalence_regions, random_persuasion_game,
                                       region_masses, region_payoffs)

SECTION = "bench_persuasion"
ENV_RATIO_TARGET = 0.3
LP_TARGET_ACTIONS, LP_TARGET_SECONDS = 10, 1.0
#: Features of the random instances (intercept + 4, like the synthetic credit instance).
N_FEATURES = 5

FULL = {"repeats": 5, "min_time": 1.0, "action_counts": (2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32),
        "max_seconds": 60.0, "lp_repeats": 3, "sample_counts": (10, 30, 100, 300, 1000), "trials": 200,
        "sampled_actions": 10}
QUICK = {"repeats": 2, "min_time": 0.05, "action_counts": (2, 4, 6), "max_seconds": 60.0, "lp_repeats": 1,
         "sample_counts": (10, 30), "trials": 10, "sampled_actions": 4}


#: Instance rule: for A actions, the first seed k = 0, 1, ... (at most MAX_CANDIDATES) whose game
#: random_persuasion_game(default_rng([A, k]), n_features=N_FEATURES, n_actions=A) has an optimal value in
#: VALUE_RANGE (open) and strictly above both full revelation and no information: a real persuasion gap. The first
#: draws (default_rng(A)) had values of 1.000 or 0.001, where every policy ties and the tables showed nothing.
VALUE_RANGE, MAX_CANDIDATES = (0.05, 0.95), 50
#: Enumerations faster than this (seconds) are timed lp_repeats times, and the median reported.
REPEAT_BELOW = 5.0
INSTANCE_RULE = (f"the first seed k = 0, 1, ... (at most {MAX_CANDIDATES}) with `random_persuasion_game(default_rng([A, k]), "
                 f"n_features={N_FEATURES}, n_actions=A)` whose optimal value lies in ({VALUE_RANGE[0]:g}, "
                 f"{VALUE_RANGE[1]:g}) and strictly above both full revelation and no information")


def _has_gap(regions: Regions, value: float) -> bool:
    """The instance rule's test on an instance's regions and optimal value."""
    return (VALUE_RANGE[0] < value < VALUE_RANGE[1] and value > full_revelation(regions).principal_value
            and value > no_information(regions).principal_value)


def _measured_instance(n_actions: int, lp_repeats: int) -> dict:
    """The instance of the rule for ``n_actions``, with the timings of its exact pipeline (region enumeration,
    masses, ``optimal_scheme``), each the median of ``lp_repeats`` calls: the run that tested the rule and, where
    its enumeration took under ``REPEAT_BELOW`` seconds, ``lp_repeats - 1`` more (one run of a second is too
    noisy on a shared machine to judge a 1 s target). ``RuntimeError`` if no candidate qualifies."""
    for seed in range(MAX_CANDIDATES):
        game = random_persuasion_game(np.random.default_rng([n_actions, seed]), n_features=N_FEATURES,
                                      n_actions=n_actions)
        start = time.perf_counter()
        patterns, witnesses = enumerate_regions(game)
        enumerated = time.perf_counter()
        masses = region_masses(game, patterns)
        massed = time.perf_counter()
        # What equivalence_regions(game) returns, built from the two timed steps.
        regions = Regions(patterns, witnesses, masses.masses, masses.errors, masses.method,
                          *region_payoffs(game, patterns), game)
        lp = median(time_call(lambda: optimal_scheme(regions), lp_repeats))
        value = optimal_scheme(regions).principal_value
        if _has_gap(regions, value):
            enumeration, mass_time = [enumerated - start], [massed - enumerated]
            if enumeration[0] < REPEAT_BELOW:
                enumeration += time_call(lambda: enumerate_regions(game), lp_repeats - 1)
                mass_time += time_call(lambda: region_masses(game, patterns), lp_repeats - 1)
            enumeration, mass_time = median(enumeration), median(mass_time)
            return {"game": game, "regions": regions, "seed": seed, "enumeration": enumeration,
                    "masses": mass_time, "mass_method": masses.method, "lp": lp, "value": value,
                    "total": enumeration + mass_time + lp}
    raise RuntimeError(f"no instance with {n_actions} actions met the rule: {INSTANCE_RULE}")


def lp_section(settings: dict, progress: bool) -> tuple[str, tuple[bool, bool, float, float] | None, dict]:
    """Exact pipeline time per number of actions: region enumeration, masses, signaling LP.

    Sizes are tried in increasing order; after a size whose total exceeds a third of ``max_seconds`` the larger
    ones are skipped (the region count, and the time, grows by about 2x per few actions, so the next size would
    likely pass ``max_seconds``). Returns the Markdown; if 10 actions were measured, whether the target holds for
    the LP alone and end to end, with both times (else ``None``); and the measured instances by size.
    """
    rows, target, skipped, measured = [], None, [], {}
    counts = settings["action_counts"]
    with progress_bar(len(counts), "signaling LP sizes", progress) as bar:
        for n_actions in counts:
            if skipped or (rows and rows[-1][-1] > settings["max_seconds"] / 3):
                skipped.append(n_actions)
                continue
            found = measured[n_actions] = _measured_instance(n_actions, settings["lp_repeats"])
            rows.append([n_actions, found["seed"], found["regions"].n_regions, found["enumeration"], found["masses"],
                         found["mass_method"], found["lp"], found["value"], found["total"]])
            if n_actions == LP_TARGET_ACTIONS:
                target = (found["lp"] < LP_TARGET_SECONDS, found["total"] < LP_TARGET_SECONDS, found["lp"],
                          found["total"])
            bar.update()
    table = [(a, k, r, seconds(e), f"{seconds(m)} ({method})", seconds(lp), f"{value:.3f}", seconds(total),
              f"LP < {LP_TARGET_SECONDS:g} s: {verdict(lp < LP_TARGET_SECONDS)}; end to end: "
              f"{verdict(total < LP_TARGET_SECONDS)}" if a == LP_TARGET_ACTIONS else "—")
             for a, k, r, e, m, method, lp, value, total in rows]
    text = ("### Optimal signaling: exact regions + LP vs number of actions\n\n"
            f"Instances: for each A (counting the no-op; Gaussian prior), {INSTANCE_RULE}. Regions: exact "
            "enumeration (one LP per surviving prefix, none where a seeded pool of Gaussian points already holds a "
            "witness). "
            "Masses: Gaussian orthant integration while A ≤ the prior's dimension, Monte Carlo (100,000 draws) "
            f"beyond. LP: `optimal_scheme(regions)` (both LPs, the tie-break LP included), median of "
            f"{settings['lp_repeats']}; enumeration and masses too where the enumeration takes under {REPEAT_BELOW:g} s "
            "(the first timing is from the run that tested the rule). Total: enumeration + masses + LP (end to "
            "end).\n\n"
            + markdown_table(("actions A", "seed k", "regions", "enumeration", "masses", "signaling LP",
                              "optimal value", "total", f"target (A = {LP_TARGET_ACTIONS})"), table))
    if skipped:
        text += (f"\n\nSkipped A = {', '.join(map(str, skipped))}: the previous size took more than "
                 f"{settings['max_seconds'] / 3:g} s, so the next would likely pass {settings['max_seconds']:g} s.")
    return text, target, measured


def sampled_section(settings: dict, progress: bool, measured: dict) -> str:
    """The Dughmi–Xu sampled epsilon-BIC mechanism: time and value vs number of prior samples, on the default
    synthetic credit instance and on the many-action instance of the LP table (selected by the same rule)."""
    trials, epsilon = settings["trials"], 0.01
    n_actions = settings["sampled_actions"]
    chosen = measured.get(n_actions) or _measured_instance(n_actions, 1)
    instances = [("synthetic credit (A = 4)", synthetic_credit(), None),
                 (f"random, A = {n_actions} (seed k = {chosen['seed']})", chosen["game"], chosen["regions"])]
    rows = []
    with progress_bar(len(instances) * len(settings["sample_counts"]), "sampled mechanism", progress) as bar:
        for name, game, regions in instances:
            regions = equivalence_regions(game) if regions is None else regions
            exact = optimal_scheme(regions)
            for n_samples in settings["sample_counts"]:
                with warnings.catch_warnings():  # a violation is reported in the table, not as a warning
                    warnings.simplefilter("ignore", BICViolationWarning)
                    result = sampled_mechanism(game, np.random.default_rng(0), n_samples=n_samples, epsilon=epsilon,
                                               n_trials=trials, allow_violation=True)
                rows.append((name, f"{exact.principal_value:.3f} ({regions.n_regions} regions)", n_samples,
                             seconds(result.solve_time), seconds(result.solve_time / trials),
                             f"{result.principal_value:.3f} ± {Z95 * result.principal_se:.3f}",
                             "yes" if result.is_bic else "**no**"))
                bar.update()
    return ("### Sampled ε-BIC approximation vs number of samples\n\n"
            f"`sampled_mechanism(game, default_rng(0), n_samples=N, epsilon={epsilon:g}, n_trials={trials})`: each "
            "trial draws a rule, places it among N − 1 prior samples and solves the ε-BIC LP over their distinct "
            "patterns (at most N rows, whatever the number of regions). Values are trial means ± 1.96 standard errors (a 95% interval) "
            "of the principal's expected utility with the agent following, against the exact BIC optimum over all "
            "regions; an ε-BIC mechanism may exceed that optimum by O(ε) plus sampling error. The random instance "
            f"is the LP table's ({INSTANCE_RULE}). ε-BIC: no violation certified (`SignalingResult.is_bic`: the "
            "empirical Bernstein upper bound on the ex-ante slack, level 1 − `BIC_DELTA`, is at least −ε).\n\n"
            + markdown_table(("instance", "exact optimum", "samples N", f"time ({trials} trials)",
                              "per recommendation", "principal value", "ε-BIC"), rows))


def env_section(settings: dict, progress: bool) -> str:
    """Steps/s of every Persuasion* env through ``gym.make`` vs CartPole-v1."""
    specs = [EnvSpec(env_id, lambda env_id=env_id: gym.make(env_id))
             for env_id in ("stratgym/PersuasionScheme-v0", "stratgym/PersuasionRecommend-v0",
                            "stratgym/PersuasionAgent-v0")]
    reference, rows = env_speeds(specs, settings["repeats"], settings["min_time"], progress)
    return ("### Env speed\n\nDefault arguments (synthetic credit instance, 16 regions, 4 actions; regions computed at "
            f"construction, not timed), actions pre-sampled, resets included, median of {settings['repeats']} repeats "
            f"of ≥ {settings['min_time']:g} s each. A `PersuasionScheme` step evaluates a whole scheme (every "
            "recommendation's posterior and best response) and ends the episode. No Persuasion* env has a native "
            "vector version.\n\n"
            + env_speed_table(reference, rows, ENV_RATIO_TARGET))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report, and with ``--write`` update BENCHMARKS.md; returns 0."""
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    settings = QUICK if args.quick else FULL
    progress = not args.no_progress
    header = machine_description()
    lp_text, target, measured = lp_section(settings, progress)
    parts = [f"## Persuasion game{' (quick smoke run)' if args.quick else ''}", header, env_section(settings, progress),
             lp_text, sampled_section(settings, progress, measured)]
    if target is not None:
        lp_met, total_met, lp, total = target
        parts.append(f"Target: exact signaling for {LP_TARGET_ACTIONS} actions under {LP_TARGET_SECONDS:g} s — the LP "
                     f"alone: {seconds(lp)}, {verdict(lp_met)}; end to end (region enumeration + masses + LP): "
                     f"{seconds(total)}, {verdict(total_met)}.")
    publish(parts, SECTION, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
