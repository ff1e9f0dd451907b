"""The benchmark's summary: one row per (env, learner) over seeds, learning curves, the headline table."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

from stratgym.agents.benchmark.suites import Suite
from stratgym.agents.references import Reference, above_optimum, normalized_score
from stratgym.registry import BenchmarkEnv


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------

def confidence_half_width(values: Sequence[float], level: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval of the mean of ``values`` (``nan`` for one value)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))


@dataclass(frozen=True)
class SummaryRow:
    """One (env, learner) line of the benchmark table.

    Attributes:
        label, env_id, side, learner: what was run.
        optimum: the exact optimum; baselines: name -> value.
        seed_means: each seed's score (:func:`~stratgym.agents.evaluate.score_policy`: exact expectation or the
            mean return on the evaluation episodes, see ``score_basis``).
        learned_mean, learned_ci95: mean over seeds and the 95% CI half-width (nan for one seed).
        ratio: ``learned_mean / optimum`` when the optimum is positive, else ``None`` (a ratio to a
            non-positive optimum has no meaning: see ``normalized``).
        n_timesteps: environment steps each run actually trained (on-policy learners round the budget up to
            whole rollouts); requested_timesteps: the budget asked for; train_time: total training seconds over seeds.
        uniform: the uniform policy's value ``b`` (``None``: unknown).
        robust_optimum: the optimum with strict incentives (``None``: none exists, see ``robust_note``).
        robust_note: how ``robust_optimum`` was computed or why there is none.
        normalized, normalized_ci95: :func:`normalized_score` of ``learned_mean`` and the CI half-width on that scale
            (``None`` when undefined, ``note`` says why).
        score_basis: ``"exact"``, ``"exact per episode"`` or ``"sampled"``: how learned values were scored (runs
            recorded before exact scoring are ``"sampled"``).
        above_optimum: :func:`above_optimum`: an error, not a result.
        upper_bound: whether ``optimum`` bounds every policy (False for a commitment value).
        note: why a score is undefined, or what is wrong.
    """

    label: str
    env_id: str
    side: str
    learner: str
    optimum: float
    baselines: dict[str, float]
    seed_means: list[float]
    learned_mean: float
    learned_ci95: float
    ratio: float | None
    n_timesteps: int
    train_time: float
    requested_timesteps: int
    uniform: float | None = None
    robust_optimum: float | None = None
    robust_note: str = ""
    normalized: float | None = None
    normalized_ci95: float | None = None
    score_basis: str = "sampled"
    above_optimum: bool = False
    upper_bound: bool = True
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (nan as ``None``)."""
        data = dict(self.__dict__)
        data["learned_ci95"] = None if np.isnan(self.learned_ci95) else self.learned_ci95
        return data


def summarize(suite: Suite, records: dict[str, dict[str, Any]], references: dict[str, Reference]) -> list[SummaryRow]:
    """Aggregate run records over seeds into one :class:`SummaryRow` per (env, learner).

    A row above its optimum (:func:`above_optimum`) also raises a ``UserWarning``, so that it is loud wherever
    the summary is made.
    """
    rows = []
    for env in suite.envs:
        reference = references[env.label]
        for learner in env.learners:
            runs = [records[f"{env.label}__{learner}__seed{seed}"] for seed in suite.seeds]
            means = [run["mean"] for run in runs]
            rows.append(_row(env, learner, reference, runs, means))
    for row in rows:
        if row.above_optimum:
            warnings.warn(f"{row.label}/{row.learner}: {row.note}", UserWarning, stacklevel=2)
    return rows


def _row(env: BenchmarkEnv, learner: str, reference: Reference, runs: list[dict[str, Any]],
         means: list[float]) -> SummaryRow:
    mean, ci95 = float(np.mean(means)), confidence_half_width(means)
    bases = {run.get("score_basis", "sampled") for run in runs}
    basis = bases.pop() if len(bases) == 1 else "sampled"
    normalized = normalized_score(mean, reference.optimum, reference.uniform)
    spread = None if reference.uniform is None else abs(reference.optimum - reference.uniform)
    notes = []
    if normalized is None:
        notes.append("normalized score undefined: " + ("no uniform value in this reference" if spread is None
                                                       else "the optimum equals the uniform policy's value"))
    error = above_optimum(reference, means, ci95, basis)
    if error:
        notes.append(f"ERROR: learned {mean:.6g} (seeds {', '.join(f'{m:.6g}' for m in means)}, {basis} scores) "
                     f"above the optimum {reference.optimum:.6g} beyond its 95% CI: the optimum or the scoring is wrong")
    return SummaryRow(env.label, env.env_id, reference.side, learner, reference.optimum, dict(reference.baselines),
                      means, mean, ci95, mean / reference.optimum if reference.optimum > 0 else None,
                      max(_trained_steps(run) for run in runs), float(sum(run["wall_time"] for run in runs)),
                      runs[0]["config"]["n_timesteps"], reference.uniform, reference.robust_optimum,
                      reference.robust_note, normalized,
                      None if normalized is None or np.isnan(ci95) else ci95 / spread, basis, error,
                      reference.upper_bound, "; ".join(notes))


def _trained_steps(record: dict[str, Any]) -> int:
    # Records written before "n_timesteps" was stored: the learning curve's last point is taken when training ends.
    return int(record.get("n_timesteps", record["curve"]["timesteps"][-1]))


def mean_curves(suite: Suite, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Learning curves over seeds: rows ``{label, learner, timesteps, mean_return, min_return, max_return,
    n_seeds}`` (mean, lowest and highest seed at each point).

    Seeds of one (env, learner) evaluate at the same timesteps (same budget and evaluation frequency).
    """
    rows = []
    for env in suite.envs:
        for learner in env.learners:
            curves = [records[f"{env.label}__{learner}__seed{seed}"]["curve"] for seed in suite.seeds]
            steps = curves[0]["timesteps"]
            if any(curve["timesteps"] != steps for curve in curves):
                raise RuntimeError(f"learning curves of {env.label}/{learner} were evaluated at different timesteps")
            values = np.array([curve["mean_returns"] for curve in curves], dtype=np.float64)
            rows.extend({"label": env.label, "learner": learner, "timesteps": int(t), "mean_return": float(mean),
                         "min_return": float(low), "max_return": float(high), "n_seeds": len(curves)}
                        for t, mean, low, high in zip(steps, values.mean(axis=0), values.min(axis=0),
                                                      values.max(axis=0)))
    return rows


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _percent(value: float | None, ci95: float | None = None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" + ("" if ci95 is None else f" ± {ci95:.1%}")


def table_lines(rows: Sequence[SummaryRow]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the headline table: the normalized score first (defined for every optimum), then
    learned/opt (``ERROR`` for a row above its optimum: never printed as a result), the optimum, the robust optimum
    and the uniform policy's value, the learned value, how it was scored, and the baselines."""
    header = ["env", "side", "learner", "normalized (95% CI)", "learned/opt", "optimum", "robust opt", "uniform",
              "learned (95% CI)", "score", "baselines"]
    cells = []
    for row in rows:
        ratio = _percent(row.ratio) + ("" if row.upper_bound else " (not a bound)")
        cells.append([row.label, row.side, row.learner,
                      "ERROR" if row.above_optimum else _percent(row.normalized, row.normalized_ci95),
                      f"ERROR {ratio} > optimum" if row.above_optimum else ratio, _fmt(row.optimum),
                      _fmt(row.robust_optimum), _fmt(row.uniform),
                      f"{_fmt(row.learned_mean)} ± {_fmt(row.learned_ci95)}", row.score_basis,
                      "; ".join(f"{name} {_fmt(value)}" for name, value in row.baselines.items())])
    return header, cells


def scoring_errors(rows: Sequence[SummaryRow]) -> list[str]:
    """One line per row whose learned value is above its optimum beyond its CI (:func:`above_optimum`)."""
    return [f"{row.label}/{row.learner}: {row.note}" for row in rows if row.above_optimum]
