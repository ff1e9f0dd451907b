"""The benchmark: learned principals and agents against the exact optima and the baselines.

For every (env instance, learner, seed) of a suite: train (:func:`stratgym.agents.train.train`),
evaluate on the seeded evaluation episodes, and for every env instance compute the reference values
(:mod:`stratgym.agents.references`). Outputs, in ``out``:

* ``runs/<env>__<learner>__seed<k>__<hash>/``: ``model.zip``, ``meta.json`` and ``record.json`` of each run,
  the folder keyed by a hash of the run's full configuration (``record.json`` holds the configuration itself);
* ``references/<env>.json``: the reference values of each env instance;
* ``summary.csv`` / ``summary.json``: one row per (env, learner): the normalized score (learned - uniform) /
  (optimum - uniform), the optimum, the robust optimum (strict incentives), the uniform policy's value, learned
  mean and 95% CI over seeds (Student t), learned/optimal, how learners were scored (exact expectation or sample
  mean, :func:`stratgym.agents.evaluate.score_policy`), whether a row is above its optimum (an error), each baseline;
* ``curves.csv`` + ``curves.png``: evaluation return vs timesteps (mean over seeds, and a band from the
  lowest to the highest seed) with the optimum and baselines as horizontal lines (their numbers in
  ``references.csv``);
* ``report.md``: any scoring error first, the table (normalized score first), the figure and the run times.

Resumable, and nothing is replaced unless asked: a finished run is written to a temporary folder
``runs/.tmp-<name>-<pid>`` and moved into place with ``os.replace`` once its record is written, so a killed
benchmark loses at most the run in progress; on the next start, finished runs of an identical configuration
are reused (and temporary folders left by dead processes removed). Runs of other configurations live in other
folders and are kept; ``overwrite=True`` retrains and replaces the identical ones. Every other file is written
atomically too (temporary file + ``os.replace``), so a reader never sees half a file. Records, ``meta.json``
and ``summary.json`` carry the package versions and the command line (:func:`stratgym._io.provenance`).

Runs train one after another in this process, or on a backend (:class:`stratgym.agents.backends.RayBackend`: Ray
tasks on this machine or a cluster) that returns each finished run (:func:`train_run`) for this process to write
(:func:`store_run`): the same folders, resuming and numbers either way.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats

from stratgym.agents.evaluate import EVAL_SEED, score_policy
from stratgym.agents.hyperparams import algorithm_arguments, load_hyperparams
from stratgym.agents.instances import make_env
from stratgym.agents.random_suite import N_EVAL_EPISODES, distribution_lines, random_instances, score_distribution
from stratgym.agents.references import REFERENCE_VERSION, Reference, above_optimum, normalized_score, reference_values
from stratgym._io import provenance, write_atomic, write_json_atomic
from stratgym.agents.train import StepProgress, check_algorithm, run_folder_name, train
from stratgym.families.persuasion import SCHEME_TRAINING  # noqa: F401  (re-exported: the suites' names for them)
from stratgym.families.stateful import RANDOM_STATEFUL  # noqa: F401
from stratgym.games._validation import as_positive_int
from stratgym.registry import BenchmarkEnv, env_entry, families


@dataclass(frozen=True)
class Suite:
    """A set of env instances, seeds and evaluation settings.

    Attributes:
        name: suite name (default output folder ``results/benchmark/<name>``).
        envs: the env instances.
        seeds: training seeds (one run per env, learner and seed).
        n_eval_episodes: evaluation episodes (seeded ``EVAL_SEED + i``) for the final score and each curve
            point, unless an env sets its own.
        n_curve_points: evaluations during training (besides the one at step 0).
        timestep_scale: factor on the hyperparameter files' ``n_timesteps`` (envs without their own budget).
    """

    name: str
    envs: tuple[BenchmarkEnv, ...]
    seeds: tuple[int, ...] = (0, 1)
    n_eval_episodes: int = 5
    n_curve_points: int = 8
    timestep_scale: float = 1.0


BOX_LEARNERS = ("ppo", "sac", "td3", "a2c")
DISCRETE_LEARNERS = ("ppo", "dqn", "a2c")


def suite_rows(suite_name: str) -> tuple[BenchmarkEnv, ...]:
    """The rows every family declares for ``suite_name`` in the registry (``benchmarks``), in family order.

    ``"full"``: the default rows with every learner that fits each env (:data:`DISCRETE_LEARNERS` on the envs the
    registry declares ``discrete``, else :data:`BOX_LEARNERS`) and the learner files' budgets, then the families'
    extra ``"full"`` rows, with the same learners.
    """
    def rows(name: str) -> list[BenchmarkEnv]:
        return [row for family in families().values() for row in family.benchmarks.get(name, ())]

    if suite_name != "full":
        return tuple(rows(suite_name))

    def every_learner(row: BenchmarkEnv) -> BenchmarkEnv:
        return replace(row, learners=DISCRETE_LEARNERS if env_entry(row.env_id).discrete else BOX_LEARNERS)

    return tuple([replace(every_learner(row), n_timesteps=None) for row in rows("default")]
                 + [every_learner(row) for row in rows("full")])


#: The ``random`` suite's instances (:mod:`stratgym.agents.random_suite`): PPO, the hyperparameter files' budgets.
_RANDOM_ENVS = tuple(BenchmarkEnv(label, family.env_id, family.instance_kwargs(seed), train_env_kwargs=training)
                     for label, family, seed, training in random_instances())

#: The named suites: ``quick`` (the demo: PPO on every env, small budgets, 2 seeds, a few minutes on 2
#: cores), ``default`` (PPO and an off-policy learner, 3 seeds, about 40 minutes on 2 cores), ``full`` (every
#: learner that fits each env, more instances, three times the budgets, 5 seeds), ``random`` (PPO on seeded random
#: instances of every principal env that discriminate, one seed each; its headline is the distribution over instances).
#: The rows of the first three come from the family registry (:func:`suite_rows`).
SUITES: dict[str, Suite] = {
    "quick": Suite("quick", suite_rows("quick"), seeds=(0, 1), n_eval_episodes=5, n_curve_points=8),
    "default": Suite("default", suite_rows("default"), seeds=(0, 1, 2), n_eval_episodes=10, n_curve_points=10),
    "full": Suite("full", suite_rows("full"), seeds=(0, 1, 2, 3, 4), n_eval_episodes=20, n_curve_points=20,
                  timestep_scale=3.0),
    "random": Suite("random", _RANDOM_ENVS, seeds=(0,), n_eval_episodes=N_EVAL_EPISODES, n_curve_points=5),
}


def custom_suite(env_ids: Sequence[str], env_kwargs: dict[str, Any] | None = None, learners: Sequence[str] = ("ppo",),
                 n_seeds: int = 2, n_timesteps: int | None = None, n_eval_episodes: int = 5) -> Suite:
    """A suite of explicit env ids, each with the same ``env_kwargs``, learners and budget."""
    if not env_ids:
        raise ValueError("env_ids must name at least one env")
    if len(set(env_ids)) != len(env_ids):
        raise ValueError(f"env_ids must not repeat, got {list(env_ids)}")
    envs = tuple(BenchmarkEnv(env_id.split("/")[-1], env_id, dict(env_kwargs or {}), tuple(learners), n_timesteps)
                 for env_id in env_ids)
    return Suite("custom", envs, seeds=tuple(range(as_positive_int(n_seeds, "seeds"))),
                 n_eval_episodes=as_positive_int(n_eval_episodes, "eval episodes"))


def adjust_suite(suite: Suite, learners: Sequence[str] | None = None, n_seeds: int | None = None,
                 n_timesteps: int | None = None, n_eval_episodes: int | None = None) -> Suite:
    """``suite`` with some settings overridden (``None`` keeps the suite's)."""
    envs = tuple(replace(env, learners=tuple(learners) if learners else env.learners,
                         n_timesteps=n_timesteps if n_timesteps is not None else env.n_timesteps,
                         n_eval_episodes=None if n_eval_episodes is not None else env.n_eval_episodes)
                 for env in suite.envs)
    return replace(suite, envs=envs,
                   seeds=tuple(range(as_positive_int(n_seeds, "seeds"))) if n_seeds is not None else suite.seeds,
                   n_eval_episodes=as_positive_int(n_eval_episodes, "eval episodes") if n_eval_episodes is not None
                   else suite.n_eval_episodes)


def describe_suites() -> str:
    """One paragraph per named suite: its seeds and each env instance with its learners (for ``--help``)."""
    paragraphs = []
    for suite in SUITES.values():
        envs = "; ".join(f"{env.label} = {env.env_id.split('/')[-1]} ({', '.join(env.learners)})" for env in suite.envs)
        paragraphs.append(f"Suite {suite.name} ({len(suite.seeds)} seeds): {envs}.")
    return " ".join(paragraphs)


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """One (env instance, learner, seed) run and everything that determines its result."""

    env: BenchmarkEnv
    learner: str
    seed: int
    n_timesteps: int
    hyperparams: dict[str, Any]
    n_eval_episodes: int
    eval_freq: int

    @property
    def key(self) -> str:
        """``<label>__<learner>__seed<k>``: the run's key in a suite's records (unique within one suite)."""
        return f"{self.env.label}__{self.learner}__seed{self.seed}"

    @property
    def name(self) -> str:
        """Folder name of the run: :attr:`key` and a hash of :meth:`config`, so that runs of different
        configurations (another budget, other env kwargs, ...) never share a folder."""
        return run_folder_name(self.env.label, self.learner, self.seed, self.config())

    def config(self) -> dict[str, Any]:
        """The JSON configuration a finished run is matched against when resuming."""
        return {"env_id": self.env.env_id, "env_kwargs": self.env.env_kwargs,
                "train_env_kwargs": self.env.train_env_kwargs, "learner": self.learner, "seed": self.seed,
                "n_timesteps": self.n_timesteps, "hyperparams": self.hyperparams,
                "n_eval_episodes": self.n_eval_episodes, "eval_seed": EVAL_SEED, "eval_freq": self.eval_freq}


def plan_runs(suite: Suite) -> list[RunSpec]:
    """Every run of ``suite``, in order (env, learner, seed); ``ValueError`` for a learner that does not fit an env."""
    runs = []
    labels = [env.label for env in suite.envs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"env labels must be unique in a suite, got {labels}")
    for env in suite.envs:
        action_space = make_env(env.env_id, env.env_kwargs).action_space
        for learner in env.learners:
            check_algorithm(learner, action_space)
            hyperparams = load_hyperparams(learner, env.env_id)
            run, _ = algorithm_arguments(hyperparams, action_space)
            budget = env.n_timesteps or max(1, int(round(run["n_timesteps"] * suite.timestep_scale)))
            eval_freq = max(1, budget // suite.n_curve_points)
            runs.extend(RunSpec(env, learner, seed, budget, hyperparams, evaluation_episodes(suite, env), eval_freq)
                        for seed in suite.seeds)
    return runs


def evaluation_episodes(suite: Suite, env: BenchmarkEnv) -> int:
    """Evaluation episodes of ``env`` in ``suite``: its own count, else the suite's."""
    return env.n_eval_episodes or suite.n_eval_episodes


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def finished_record(out: Path, spec: RunSpec) -> dict[str, Any] | None:
    """The record of ``spec`` in ``out`` if it finished with the same configuration, else ``None``."""
    record = _read_json(out / "runs" / spec.name / "record.json")
    return record if record is not None and record.get("config") == spec.config() else None


@dataclass(frozen=True)
class FinishedRun:
    """A trained and scored run before it is written: its record and the other files of its folder (name ->
    content: ``model.zip``, ``meta.json``). What a worker on another machine returns to the driver, which writes it
    (:func:`store_run`), so that no shared filesystem is needed."""

    record: dict[str, Any]
    files: dict[str, bytes]


def train_run(spec: RunSpec, reference: Reference, progress: bool | StepProgress = False,
              tensorboard: str | Path | None = None) -> FinishedRun:
    """Train and evaluate one run, writing nothing to the benchmark folder. ``progress``: as :func:`train`'s
    ``progress_bar``; ``tensorboard``: a folder for TensorBoard logs (run ``<name>``, with the reference values)."""
    env = spec.env
    result = train(env.env_id, spec.learner, spec.seed, env_kwargs=env.env_kwargs | env.train_env_kwargs,
                   eval_env_kwargs=env.env_kwargs, n_timesteps=spec.n_timesteps,
                   hyperparams=spec.hyperparams, eval_freq=spec.eval_freq, n_eval_episodes=spec.n_eval_episodes,
                   eval_discount=reference.discount, progress_bar=progress, tensorboard_log=tensorboard,
                   tb_log_name=spec.name, reference=reference)
    final = score_policy(result.model, env.env_id, spec.n_eval_episodes, EVAL_SEED, env_kwargs=env.env_kwargs,
                         discount=reference.discount)
    record = {"config": spec.config(), "name": spec.name, "label": env.label, "mean": final.mean,
              "stderr": final.stderr, "returns": final.returns.tolist(), "score_basis": final.basis,
              "wall_time": result.wall_time, "n_timesteps": result.n_timesteps, "curve": result.curve.to_json(),
              **provenance()}
    with tempfile.TemporaryDirectory(prefix="stratgym-run-") as folder:  # TrainingResult.save writes a folder
        result.save(folder)
        files = {path.name: path.read_bytes() for path in Path(folder).iterdir()}
    return FinishedRun(record, files)


def store_run(out: Path, spec: RunSpec, run: FinishedRun, overwrite: bool = False) -> dict[str, Any]:
    """Write ``run`` to ``out/runs/<name>`` atomically (a temporary folder moved into place once complete) and
    return its record. ``FileExistsError`` if the folder exists, unless ``overwrite``."""
    target = _free_run_folder(out, spec, overwrite)
    temporary = out / "runs" / f".tmp-{spec.name}-{os.getpid()}"
    if temporary.exists():
        shutil.rmtree(temporary)
    for name, content in run.files.items():
        write_atomic(temporary / name, content)
    write_json_atomic(temporary / "record.json", run.record)
    if target.exists():  # only with overwrite (checked above): the identical run, retrained
        shutil.rmtree(target)
    os.replace(temporary, target)
    return run.record


def _free_run_folder(out: Path, spec: RunSpec, overwrite: bool) -> Path:
    """The folder of ``spec`` in ``out``; ``FileExistsError`` if it exists, unless ``overwrite``."""
    target = out / "runs" / spec.name
    if target.exists() and not overwrite:
        raise FileExistsError(f"{str(target)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    return target


def execute_run(out: Path, spec: RunSpec, reference: Reference, overwrite: bool = False,
                progress: bool | StepProgress = False, tensorboard: str | Path | None = None) -> dict[str, Any]:
    """Train and evaluate one run (:func:`train_run`), write it to ``out/runs/<name>`` (:func:`store_run`), and
    return its record. ``FileExistsError`` if the folder exists, unless ``overwrite`` (checked before training)."""
    _free_run_folder(out, spec, overwrite)
    return store_run(out, spec, train_run(spec, reference, progress, tensorboard), overwrite)


@dataclass(frozen=True)
class BenchmarkPlan:
    """What :func:`run_benchmark` will do with each run of a suite.

    Attributes:
        reuse: key -> record of the finished runs of an identical configuration that are kept.
        train: the runs to train, in order.
        replace: the runs among ``train`` whose folder exists and is replaced (only with ``overwrite``).
    """

    reuse: dict[str, dict[str, Any]]
    train: list[RunSpec]
    replace: list[RunSpec]

    def describe(self) -> str:
        """One line: how many runs are reused, trained and replaced."""
        line = (f"{len(self.reuse) + len(self.train)} runs: reusing {len(self.reuse)} finished runs of an identical "
                f"configuration, training {len(self.train)}")
        if self.replace:
            line += f" ({len(self.replace)} of them replacing a finished run, --overwrite: " \
                    f"{', '.join(spec.name for spec in self.replace)})"
        return line


def plan_benchmark(out: Path, specs: Sequence[RunSpec], overwrite: bool = False) -> BenchmarkPlan:
    """Which runs of ``specs`` are reused from ``out`` and which are trained. ``ValueError``, before anything is
    trained, for a run folder that exists but holds no finished run of its configuration, unless ``overwrite``."""
    reuse, to_train, replace_ = {}, [], []
    for spec in specs:
        record = None if overwrite else finished_record(out, spec)
        if record is not None:
            reuse[spec.key] = record
            continue
        if (out / "runs" / spec.name).exists():
            if not overwrite:
                raise ValueError(f"{str(out / 'runs' / spec.name)!r} exists but holds no finished run of this "
                                 "configuration (its record.json is missing or unreadable); pass --overwrite to "
                                 "replace it")
            replace_.append(spec)
        to_train.append(spec)
    return BenchmarkPlan(reuse, to_train, replace_)


def remaining_seconds(trained: Sequence[tuple[str, int, float]], remaining: Sequence[tuple[str, int]]) -> float | None:
    """Estimated seconds to train the ``remaining`` runs ``(learner, budget)`` from the runs already trained in this
    invocation, ``(learner, budget, seconds)``: each learner's seconds per budgeted step where it has trained runs
    (SAC steps cost many PPO steps), else the rate over all trained runs. Reused runs cost nothing and must not
    be among ``trained``. ``None`` before any run has trained; 0 when nothing remains."""
    if not remaining:
        return 0.0
    if not trained:
        return None
    steps, seconds = {}, {}
    for learner, budget, elapsed in trained:
        steps[learner] = steps.get(learner, 0) + budget
        seconds[learner] = seconds.get(learner, 0.0) + elapsed
    overall = sum(seconds.values()) / sum(steps.values())
    return float(sum(budget * (seconds[learner] / steps[learner] if learner in steps else overall)
                     for learner, budget in remaining))


def parallel_eta(trained: Sequence[tuple[str, int, float]], remaining: Sequence[tuple[str, int]],
                 slots: int) -> float | None:
    """:func:`remaining_seconds` spread over ``slots`` runs training at once (never more slots than runs
    remain); ``None`` before any run has trained."""
    seconds = remaining_seconds(trained, remaining)
    return None if seconds is None else seconds / max(1, min(slots, len(remaining)))


def train_serially(specs: Sequence[RunSpec], references: dict[str, Reference], step_progress=None,
                   tensorboard: str | Path | None = None):
    """Train ``specs`` one after another in this process: yields ``(spec, FinishedRun, seconds, "")`` as each
    finishes. ``step_progress``: ``spec -> StepProgress`` for the steps of each run, or ``None``."""
    for spec in specs:
        start = time.perf_counter()
        run = train_run(spec, references[spec.env.label], step_progress(spec) if step_progress else False, tensorboard)
        yield spec, run, time.perf_counter() - start, ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s" if seconds >= 60 else f"{seconds:.0f} s"


#: A live process renames its temporary run folder within seconds of creating it (it is made after training):
#: one this old belongs to a dead process whose PID was reused.
STALE_AFTER_S = 600


def _remove_stale_temporaries(runs: Path) -> None:
    """Remove the temporary run folders of dead processes; another benchmark writing to ``runs`` keeps its own."""
    for temporary in runs.glob(".tmp-*"):
        owner = temporary.name.rsplit("-", 1)[-1]
        try:
            fresh = time.time() - temporary.stat().st_mtime < STALE_AFTER_S
        except FileNotFoundError:  # its owner just renamed it
            continue
        if owner.isdigit() and fresh and _alive(int(owner)):
            continue
        shutil.rmtree(temporary, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def env_reference(out: Path, env: BenchmarkEnv, n_eval_episodes: int) -> Reference:
    """The reference values of ``env`` (cached in ``out/references/<label>.json`` for the same configuration)."""
    path = out / "references" / f"{env.label}.json"
    config = {"env_id": env.env_id, "env_kwargs": env.env_kwargs, "n_eval_episodes": n_eval_episodes,
              "eval_seed": EVAL_SEED, "reference_version": REFERENCE_VERSION}
    cached = _read_json(path)
    if cached is not None and cached.get("config") == config:
        return Reference.from_json(cached["reference"])
    reference = reference_values(env.env_id, env.env_kwargs, n_eval_episodes, EVAL_SEED)
    write_json_atomic(path, {"config": config, "reference": reference.to_json()})
    return reference


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


def _blank(value: float | None) -> Any:
    """A CSV cell: empty for ``None`` or nan."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else value


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


def write_outputs(out: Path, suite: Suite, rows: list[SummaryRow], curves: list[dict[str, Any]],
                  references: dict[str, Reference], wall_time: float) -> None:
    """Write ``summary.csv``, ``summary.json``, ``curves.csv``, ``references.csv``, ``curves.png`` and ``report.md``."""
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
              "exists, e.g. against a learning receiver, whose commitment value is not an upper bound).", "",
              "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in cells]
    if any(d["n_instances"] > 1 for d in distribution):
        lines += ["", "## Normalized score over instances", "", "Per env and learner, over its instances (rows "
                  "above) whose normalized score is defined: median, p10 (linear interpolation) and min.", ""]
        lines += distribution_lines(distribution)
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


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` did: the table rows, how many runs were trained (``replaced`` of them replacing a
    finished run) vs resumed, the wall time."""

    rows: list[SummaryRow]
    trained: int
    resumed: int
    wall_time: float
    out: Path
    replaced: int = 0


def run_benchmark(suite: Suite, out: str | Path, progress: bool = True, overwrite: bool = False,
                  tensorboard: str | Path | None = None, stream=None, backend=None) -> BenchmarkResult:
    """Run (or resume) ``suite`` into ``out`` and write every output; see the module doc.

    Args:
        progress: report progress on ``stream`` (default stderr): which runs are reused and trained, and, on a
            terminal, a bar over the runs to train (ETA from the runs trained so far, weighted by budget) above a
            bar of the steps of the current run; otherwise plain lines: a few per run while it trains
            (:class:`~stratgym.agents.train.StepProgress`) and one when it ends, with the ETA.
        overwrite: retrain (and replace) finished runs of an identical configuration instead of reusing them.
        tensorboard: a folder for TensorBoard logs: one run per trained run, named as its folder, with the
            optimum, the baselines and learned/optimum beside SB3's scalars.
        backend: where runs train; ``None``: one after another in this process. Otherwise an object with
            ``slots`` (how many runs train at once), ``describe()`` (where, for the first progress line) and
            ``run(specs, references, tensorboard)``, an iterator of
            ``(spec, FinishedRun, seconds, where)`` in the order runs finish (``where``: text for the progress
            line), e.g. :class:`stratgym.agents.backends.RayBackend`. This process writes every result
            (:func:`store_run`), as each run finishes, so a worker needs no access to ``out``.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    stream = sys.stderr if stream is None else stream
    interactive = progress and stream.isatty()
    out = Path(out)
    runs_dir = out / "runs"
    specs = plan_runs(suite)
    plan = plan_benchmark(out, specs, overwrite)
    runs_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(runs_dir)
    references = {}
    for env in tqdm(suite.envs, desc="exact references", disable=not interactive, file=stream, leave=False):
        references[env.label] = env_reference(out, env, evaluation_episodes(suite, env))
    if progress:
        print(plan.describe() + ("" if backend is None else f"; {backend.describe()}"), file=stream, flush=True)
    records = dict(plan.reuse)
    timings: list[tuple[str, int, float]] = []
    pending = {spec.key: spec for spec in plan.train}
    slots = 1 if backend is None else backend.slots
    bar = tqdm(total=len(plan.train), desc="runs", file=stream, position=0, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]") if interactive else None
    if backend is None:
        step_progress = (lambda spec: StepProgress(spec.name, stream, position=1, leave=False)) if progress else None
        finished = train_serially(plan.train, references, step_progress, tensorboard)
    else:
        finished = backend.run(plan.train, references, tensorboard)
    if bar is not None:
        bar.set_postfix_str("ETA unknown")
    for index, (spec, run, seconds, where) in enumerate(finished, 1):
        records[spec.key] = record = store_run(out, spec, run, overwrite)
        del pending[spec.key]
        timings.append((spec.learner, spec.n_timesteps, seconds))
        eta = parallel_eta(timings, [(s.learner, s.n_timesteps) for s in pending.values()], slots)
        if bar is not None:
            bar.update()
            bar.set_postfix_str(f"ETA {_duration(eta)}" if pending else "done")
        elif progress:
            print(f"[{index}/{len(plan.train)}] {spec.name}: trained {record['n_timesteps']:,} steps in "
                  f"{seconds:.1f} s{where}; ETA {_duration(eta)}", file=stream, flush=True)
    if bar is not None:
        bar.close()
    rows = summarize(suite, records, references)
    wall_time = time.perf_counter() - start
    write_outputs(out, suite, rows, mean_curves(suite, records), references, wall_time)
    return BenchmarkResult(rows, len(plan.train), len(plan.reuse), wall_time, out, len(plan.replace))
