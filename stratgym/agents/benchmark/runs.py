"""The runs of a suite: their specs, training and scoring, atomic storage, resuming, and the time left."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from stratgym.agents.benchmark.suites import Suite
from stratgym.agents.evaluate import EVAL_SEED, score_policy
from stratgym.agents.hyperparams import algorithm_arguments, load_hyperparams
from stratgym.agents.instances import make_env
from stratgym.agents.references import REFERENCE_VERSION, Reference, reference_values
from stratgym.agents.train import StepProgress, check_algorithm, run_folder_name, train
from stratgym.io import provenance, write_atomic, write_json_atomic
from stratgym.registry import BenchmarkEnv


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


#: A live process renames its temporary run folder within seconds of creating it (it is made after training):
#: one this old belongs to a dead process whose PID was reused.
STALE_AFTER_S = 600


def remove_stale_temporaries(runs: Path) -> None:
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
