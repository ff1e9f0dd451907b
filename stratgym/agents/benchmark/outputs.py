"""The benchmark's files: the summary as CSV and JSON, the curves, the references, the figure and the report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from stratgym.agents.benchmark.runs import evaluation_episodes
from stratgym.agents.benchmark.suites import Suite
from stratgym.agents.benchmark.summary import SummaryRow, scoring_errors, table_lines
from stratgym.agents.evaluate import EVAL_SEED
from stratgym.agents.random_suite import distribution_lines, score_distribution
from stratgym.agents.references import Reference
from stratgym.games.metrics import METRICS
from stratgym.io import provenance, write_atomic, write_json_atomic


def _blank(value: float | None) -> Any:
    """A CSV cell: empty for ``None`` or nan."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else value


def write_outputs(out: Path, suite: Suite, rows: list[SummaryRow], curves: list[dict[str, Any]],
                  references: dict[str, Reference], wall_time: float) -> None:
    """Write ``summary.csv``, ``summary.json``, ``curves.csv``, ``references.csv``, ``metrics.csv`` (the social
    metrics of the envs that report them), ``curves.png`` and ``report.md``."""
    baseline_names = list(dict.fromkeys(name for row in rows for name in row.baselines))
    _write_csv(out / "summary.csv",
               ["env", "env_id", "side", "learner", "normalized_score", "normalized_ci95", "optimum", "robust_optimum",
                "uniform", "learned_mean", "learned_ci95", "learned_over_optimum", "score_basis", "above_optimum_error",
                "optimum_is_upper_bound", "note", "n_seeds", "n_timesteps", "requested_timesteps", "train_time_s"]
               + baseline_names,
               [[row.label, row.env_id, row.side, row.learner, _blank(row.normalized), _blank(row.normalized_ci95),
                 row.optimum, _blank(row.robust_optimum), _blank(row.uniform), row.learned_mean,
                 _blank(row.learned_ci95), _blank(row.ratio), row.score_basis, row.above_optimum, row.upper_bound,
                 row.note, len(row.seed_means), row.n_timesteps, row.requested_timesteps, round(row.train_time, 2)]
                + [row.baselines.get(name, "") for name in baseline_names] for row in rows])
    distribution = score_distribution(rows)
    summary = {"suite": suite.name, "seeds": list(suite.seeds), "n_eval_episodes": suite.n_eval_episodes,
               "eval_seed": EVAL_SEED, "wall_time_s": wall_time, "rows": [row.to_json() for row in rows],
               "distribution": distribution,
               "references": {label: reference.to_json() for label, reference in references.items()}, **provenance()}
    write_json_atomic(out / "summary.json", summary)
    fields = ["label", "learner", "timesteps", "mean_return", "min_return", "max_return", "n_seeds"]
    _write_csv(out / "curves.csv", fields, [[point[name] for name in fields] for point in curves])
    _write_csv(out / "references.csv", ["label", "env_id", "side", "reference", "value"],
               [[label, reference.env_id, reference.side, name, value]
                for label, reference in references.items()
                for name, value in {"optimum": reference.optimum, **reference.baselines}.items()])
    _write_csv(out / "metrics.csv", ["env", "learner", "policy", "metric", "value"],
               [[row.label, row.learner, policy, name, _blank(value)] for row in rows
                for policy, metrics in (("learned", row.metrics), ("optimal", row.optimum_metrics))
                for name, value in metrics.items()])
    plot_curves(out / "curves.png", suite, curves, references)
    header, cells = table_lines(rows)
    lines = [f"# stratgym benchmark: suite `{suite.name}`", ""]
    errors = scoring_errors(rows)
    if errors:
        lines += ["## ERROR: learned values above the optimum", "",
                  "These rows are not results: an exact expectation cannot beat the exact optimum, so the optimum or "
                  "the scoring is wrong.", ""] + [f"- {error}" for error in errors] + [""]
    lines += [f"Learned policies (mean over seeds {list(suite.seeds)}; ± is the 95% Student-t half-width over seeds) "
              "against the exact optimum of the learning side, in the units of the env's episode return. "
              "**normalized** is (learned - uniform) / (optimum - uniform), uniform the value of the policy every "
              "learner starts from (the all-zeros Box action: uniform rule, scheme or split; on discrete envs the "
              "uniformly random action): 0 for it, 1 for the optimum, defined whatever the optimum's sign. "
              "**robust opt** is the optimum with strict incentives (margin 1e-3 of the game's scale), the part of "
              "the optimum that does not rest on the agent's ties (agent envs: the same as the optimum). "
              "**score**: `exact` (each seed scored by the exact expectation of its deterministic policy), `exact "
              "per episode` (exact given each evaluation episode's draw, on the episodes the optimum is averaged "
              f"over, seeded from {EVAL_SEED}), `sampled` (mean return over those episodes: no exact expectation "
              "exists, e.g. against a learning receiver: scored against the trust bound, an exact upper bound).", "",
              "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in cells]
    if any(d["n_instances"] > 1 for d in distribution):
        lines += ["", "## Normalized score over instances", "", "Per env and learner, over its instances (rows "
                  "above) whose normalized score is defined: median, p10 (linear interpolation) and min.", ""]
        lines += distribution_lines(distribution)
    lines += metrics_lines(rows)
    notes = [f"- `{row.label}` / {row.learner}: {row.note}" for row in rows if row.note and not row.above_optimum]
    notes += [f"- `{label}`: no robust optimum: {reference.robust_note}" for label, reference in references.items()
              if reference.robust_optimum is None]
    lines += ["", "Notes:", ""] + notes if notes else []
    lines += ["", "![learning curves](curves.png)", "", "## Instances and solvers", ""]
    for env in suite.envs:
        reference = references[env.label]
        lines.append(f"- `{env.label}`: `{env.env_id}` with `{json.dumps(env.env_kwargs)}`; {reference.side} learns; "
                     f"{evaluation_episodes(suite, env)} evaluation episodes; reference: {reference.solver} "
                     f"({reference.solve_time:.2f} s); robust optimum: {reference.robust_note or 'n/a'}.")
    lines += ["", "## Run times", "",
              f"Total wall time of this invocation: {wall_time:.1f} s (runs resumed from disk cost nothing). "
              "Training time per (env, learner), summed over seeds:", ""]
    lines += [f"- `{row.label}` / {row.learner}: {row.train_time:.1f} s for {len(row.seed_means)} × {row.n_timesteps} "
              "steps" + (f" (budget {row.requested_timesteps}, rounded up to whole rollouts)"
                         if row.n_timesteps != row.requested_timesteps else "") for row in rows]
    made = provenance()
    lines += ["", "Made with " + ", ".join(f"{name} {version}" for name, version in made["versions"].items())
              + f" by `{' '.join(made['command'])}`."]
    write_atomic(out / "report.md", "\n".join(lines) + "\n")


def metrics_lines(rows: list[SummaryRow]) -> list[str]:
    """The report's social-metrics table: per row that has metrics, the learned and the optimal policy's overall
    value of each metric and its disparity between groups (max - min over groups); all values in ``metrics.csv``."""
    rows = [row for row in rows if row.metrics or row.optimum_metrics]
    if not rows:
        return []
    lines = ["", "## Social metrics", "", "The population envs' social metrics (`stratgym.games.metrics`) of the learned "
             "policy (mean over seeds) and of the optimal one, on the evaluation episodes: overall value / disparity "
             "between groups (max - min). Per group and the ratios: `metrics.csv`.", "",
             "| env | learner | policy | " + " | ".join(METRICS) + " |", "|" + "---|" * (3 + len(METRICS))]
    for row in rows:
        for policy, metrics in (("learned", row.metrics), ("optimal", row.optimum_metrics)):
            cells = [f"{_number(metrics.get(f'overall/{name}'))} / "
                     f"{_number(metrics.get(f'disparity/{name}/difference'))}" for name in METRICS]
            lines.append(f"| {row.label} | {row.learner} | {policy} | " + " | ".join(cells) + " |")
    return lines


def _number(value: float | None) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.3f}"


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())


def plot_curves(path: Path, suite: Suite, curves: list[dict[str, Any]], references: dict[str, Reference]) -> None:
    """One panel per env: mean evaluation return vs timesteps per learner with a band from the lowest to the highest
    seed (the spread over seeds), optimum and baselines as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(suite.envs)
    columns = min(3, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.8 * rows), squeeze=False)
    styles = ["--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3))]
    for axis, env in zip(axes.flat, suite.envs):
        reference = references[env.label]
        for learner in env.learners:
            points = [row for row in curves if row["label"] == env.label and row["learner"] == learner]
            steps = [p["timesteps"] for p in points]
            (line,) = axis.plot(steps, [p["mean_return"] for p in points], marker="o", markersize=3,
                                label=f"{learner}: mean of {points[0]['n_seeds']} seeds")
            axis.fill_between(steps, [p["min_return"] for p in points], [p["max_return"] for p in points],
                              color=line.get_color(), alpha=0.2, linewidth=0, label=f"{learner}: min-max over seeds")
        axis.axhline(reference.optimum, color="black", linewidth=1.5, label=reference.optimum_name)
        for index, (name, value) in enumerate(reference.baselines.items()):
            axis.axhline(value, color=f"C{index + 3}", linestyle=styles[index % len(styles)], linewidth=1.2, label=name)
        axis.set_title(f"{env.label} ({reference.side})", fontsize=10)
        axis.set_xlabel("training timesteps")
        axis.set_ylabel("evaluation return")
        axis.legend(fontsize=7, loc="best")
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[count:]:
        axis.set_visible(False)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    plt.close(figure)
    write_atomic(path, image.getvalue())
