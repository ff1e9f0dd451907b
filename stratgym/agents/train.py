"""Training of stable-baselines3 learners on stratgym environments, seeded, with a learning curve.

Seeding recipe (one for the whole project): ``seed`` seeds the algorithm (torch, numpy, Python
``random`` and the action space, through SB3's ``seed=``) and the training envs: more than one env of a
registered id trains on its native vector env (:func:`stratgym.agents.vec.training_vec_env`), whose one
generator is seeded with ``seed``; a single env (or a custom factory) is SB3's ``make_vec_env``, copy ``i``
reset with ``seed + i`` first. The learning curve evaluates on episodes seeded ``eval_seed + k``. Training
runs on the CPU with one torch thread (``torch.set_num_threads(1)`` is set process-wide), which makes
two runs with the same seed produce the same policy on this machine and is the fastest setting for
these small networks on 2 cores.

A run is identified by its configuration (:func:`training_config`: env, env kwargs, learner, hyperparameters,
seed, budget, evaluation settings); its folder name carries a short hash of it (:func:`run_folder_name`) and
``meta.json`` the configuration itself, the package versions and the command line.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HumanOutputFormat, Logger, TensorBoardOutputFormat
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import TrainFrequencyUnit

from stratgym.agents.evaluate import EVAL_SEED, score_policy
from stratgym.agents.hyperparams import algorithm_arguments, check_keys, load_hyperparams
from stratgym.agents.instances import make_env
from stratgym.agents.references import REFERENCES, NoExactReference, Reference, reference_values
from stratgym.agents.vec import training_vec_env
from stratgym.games.validation import as_positive_int
from stratgym.io import config_hash, provenance, write_atomic, write_json_atomic

#: Algorithms by name, with the action spaces each one accepts.
ALGORITHMS: dict[str, tuple[type[BaseAlgorithm], tuple[type[spaces.Space], ...]]] = {
    "ppo": (PPO, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)),
    "a2c": (A2C, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)),
    "sac": (SAC, (spaces.Box,)),
    "td3": (TD3, (spaces.Box,)),
    "dqn": (DQN, (spaces.Discrete,)),
}


def check_algorithm(algo: str, action_space: spaces.Space) -> type[BaseAlgorithm]:
    """The SB3 class of ``algo``; ``ValueError`` if unknown or if it cannot act in ``action_space``."""
    if algo not in ALGORITHMS:
        raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    algorithm, accepted = ALGORITHMS[algo]
    if not isinstance(action_space, accepted):
        fitting = sorted(name for name, (_, kinds) in ALGORITHMS.items() if isinstance(action_space, kinds))
        raise ValueError(f"algo {algo!r} needs a {' or '.join(k.__name__ for k in accepted)} action space, but the "
                         f"env's is {action_space}; algorithms that fit it: {fitting}")
    return algorithm


def default_algorithm(action_space: spaces.Space) -> str:
    """PPO: it fits every action space stratgym uses."""
    check_algorithm("ppo", action_space)
    return "ppo"


@dataclass(frozen=True)
class LearningCurve:
    """Evaluation return during training.

    Attributes:
        timesteps: ``(k,)`` environment steps taken (summed over parallel envs) at each evaluation.
        mean_returns: ``(k,)`` mean evaluation return at those points.
    """

    timesteps: np.ndarray
    mean_returns: np.ndarray

    def to_json(self) -> dict[str, list]:
        """``{"timesteps": [...], "mean_returns": [...]}``: the form saved in ``meta.json`` and benchmark records."""
        return {"timesteps": self.timesteps.tolist(), "mean_returns": self.mean_returns.tolist()}


@dataclass
class TrainingResult:
    """A trained model and how it was made.

    Attributes:
        model: the trained SB3 algorithm.
        algo: algorithm name (key of :data:`ALGORITHMS`).
        env_id: registered env id, or ``None`` for an env given as a factory.
        env_kwargs: the JSON-style env kwargs it was trained with (see :mod:`stratgym.agents.instances`).
        eval_env_kwargs: the env kwargs its learning curve was evaluated with (and ``stratgym evaluate`` uses).
        seed: training seed.
        n_timesteps: environment steps actually trained (``model.num_timesteps``): on-policy learners round the
            budget up to whole rollouts of ``n_envs * n_steps``.
        requested_timesteps: the budget asked for.
        curve: the learning curve.
        wall_time: seconds spent training (evaluations included).
        hyperparams: the zoo-format entry used.
        config: the run's configuration (:func:`training_config`), saved in ``meta.json`` with its hash.
    """

    model: BaseAlgorithm
    algo: str
    env_id: str | None
    env_kwargs: dict[str, Any]
    seed: int
    n_timesteps: int
    curve: LearningCurve
    wall_time: float
    hyperparams: dict[str, Any] = field(default_factory=dict)
    eval_env_kwargs: dict[str, Any] = field(default_factory=dict)
    requested_timesteps: int | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def save(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write ``model.zip`` and ``meta.json`` into ``directory`` (each atomically); returns the directory.

        ``FileExistsError`` if ``directory`` already holds a saved run, unless ``overwrite``: nothing is replaced
        unless asked.
        """
        try:
            json.dumps([self.env_kwargs, self.eval_env_kwargs])
        except TypeError as error:
            raise ValueError("saving needs JSON-style env_kwargs (a game name or fields, not a game object)") from error
        directory = Path(directory)
        if not overwrite and saved_run_exists(directory):
            raise FileExistsError(f"{str(directory)!r} already holds a saved run; pass overwrite=True (CLI: "
                                  "--overwrite) to replace it, or save elsewhere")
        archive = io.BytesIO()
        self.model.save(archive)
        write_atomic(directory / "model.zip", archive.getvalue())
        meta = {"algo": self.algo, "env_id": self.env_id, "env_kwargs": self.env_kwargs,
                "eval_env_kwargs": self.eval_env_kwargs, "seed": self.seed,
                "n_timesteps": self.n_timesteps, "requested_timesteps": self.requested_timesteps,
                "wall_time": self.wall_time, "curve": self.curve.to_json(),
                # hyperparameters given as Python objects are recorded by their repr
                "config": json.loads(json.dumps(self.config, default=repr)), "config_hash": config_hash(self.config),
                **provenance()}
        write_json_atomic(directory / "meta.json", meta)
        return directory


def saved_run_exists(directory: str | Path) -> bool:
    """Whether ``directory`` holds (part of) a saved run: a ``model.zip`` or a ``meta.json``."""
    return any((Path(directory) / name).exists() for name in ("model.zip", "meta.json"))


def saved_config(directory: str | Path) -> dict[str, Any] | None:
    """The configuration recorded in ``directory/meta.json``, or ``None`` (no such file, unreadable, or written
    before configurations were recorded)."""
    try:
        meta = json.loads((Path(directory) / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("config") if isinstance(meta, dict) else None


def config_differences(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The top-level settings in which ``new`` differs from ``old``, for a message (``old=None``: not recorded)."""
    if old is None:
        return "its configuration is not recorded"
    changed = [f"{key} {json.dumps(old.get(key), default=repr)} -> {json.dumps(new.get(key), default=repr)}"
               for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    return "differs in " + "; ".join(changed) if changed else "identical configuration"


def run_folder_name(label: str, algo: str, seed: int, config: dict[str, Any]) -> str:
    """``<label>__<algo>__seed<seed>__<hash>``: runs of different configurations never share a folder."""
    return f"{label}__{algo}__seed{seed}__{config_hash(config)}"


#: Keys of ``meta.json`` that loading and evaluating a run need.
META_KEYS = ("algo", "env_id", "env_kwargs", "seed", "n_timesteps")


def load_model(directory: str | Path) -> tuple[BaseAlgorithm, dict[str, Any]]:
    """Load a model saved by :meth:`TrainingResult.save`: returns ``(model, meta)``; ``ValueError`` for a folder
    that is not a readable saved run."""
    directory = Path(directory)
    if not (directory / "meta.json").is_file() or not (directory / "model.zip").is_file():
        raise ValueError(f"{str(directory)!r} is not a saved run: it needs model.zip and meta.json")
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(meta_path)!r} is not valid JSON ({error})") from error
    missing = [key for key in META_KEYS if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise ValueError(f"{str(meta_path)!r} lacks {missing}: it was not written by stratgym train")
    if meta["algo"] not in ALGORITHMS:
        raise ValueError(f"{str(meta_path)!r} names algo {meta['algo']!r}; known: {sorted(ALGORITHMS)}")
    algorithm, _ = ALGORITHMS[meta["algo"]]
    try:
        return algorithm.load(directory / "model.zip", device="cpu"), meta
    except (zipfile.BadZipFile, KeyError) as error:  # SB3 reads a zip with fixed members
        raise ValueError(f"{str(directory / 'model.zip')!r} is not a saved {meta['algo']} model ({error})") from error


def steps_to_train(model: BaseAlgorithm, budget: int) -> int:
    """Environment steps ``model.learn(budget)`` will take from its current state: SB3 collects whole rollouts
    (on-policy: ``n_steps * n_envs``; off-policy with a step-based ``train_freq``: ``train_freq * n_envs``), so the
    budget is rounded up to them. An episode-based ``train_freq`` is not predictable: ``budget`` rounded up to
    ``n_envs``."""
    if isinstance(model, OnPolicyAlgorithm):
        chunk = model.n_steps * model.n_envs
    elif isinstance(model, OffPolicyAlgorithm) and model.train_freq.unit == TrainFrequencyUnit.STEP:
        chunk = model.train_freq.frequency * model.n_envs
    else:
        chunk = model.n_envs
    return -(-int(budget) // chunk) * chunk


class StepProgress(BaseCallback):
    """The steps a run has trained, on ``stream`` (default stderr), out of the steps it will train
    (:func:`steps_to_train`; never past 100%).

    On a terminal: a tqdm bar (``position`` and ``leave`` as tqdm's, for a bar nested under another). Otherwise
    (a log file, a pipe): at most ``lines`` plain lines, one each time another ``1/lines`` of the run is done.
    """

    def __init__(self, label: str = "training", stream=None, lines: int = 10, position: int = 0, leave: bool = True):
        super().__init__()
        self.label, self.stream, self.position, self.leave = label, stream, position, leave
        self.lines = as_positive_int(lines, "lines")
        self.total = self.done = 0
        self._bar = None

    def _on_training_start(self) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        self._stream, self._start, self._first = stream, time.perf_counter(), self.model.num_timesteps
        self.total, self.done, self._printed = steps_to_train(self.model, self.locals["total_timesteps"] - self._first), 0, 0
        if stream.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=self.label, unit="step", file=stream,
                             position=self.position, leave=self.leave, dynamic_ncols=True)

    def _on_step(self) -> bool:
        self.done = self.model.num_timesteps - self._first
        if self.done > self.total:  # an episode-based train_freq went past the prediction: the bar stays full
            self.total = self.done
            if self._bar is not None:
                self._bar.total = self.total
        if self._bar is not None:
            self._bar.update(self.done - self._bar.n)
        elif self.done * self.lines >= (self._printed + 1) * self.total:
            self._line()
        return True

    def _line(self) -> None:
        self._printed = self.done * self.lines // self.total
        print(f"{self.label}: {self.done:,}/{self.total:,} steps ({self.done / self.total:.0%}), "
              f"{time.perf_counter() - self._start:.0f} s", file=self._stream, flush=True)

    def _on_training_end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.done and self._printed < self.lines:
            self._line()


#: TensorBoard tags written beside SB3's at each learning-curve evaluation (when a reference is known).
TB_OPTIMUM, TB_LEARNED, TB_RATIO, TB_BASELINE = ("stratgym/optimum", "stratgym/learned", "stratgym/learned_over_optimum",
                                                 "stratgym/baseline/")


class CurveCallback(BaseCallback):
    """Evaluate the policy every ``eval_freq`` environment steps (and at the start and end of training).

    With a ``reference`` and SB3 logging to TensorBoard, each evaluation also writes the reference values and
    the learned return as scalars: ``stratgym/optimum``, ``stratgym/baseline/<name>``, ``stratgym/learned``
    and ``stratgym/learned_over_optimum`` (when the optimum is positive), at the current timestep.
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int, n_episodes: int, seed: int, discount: float = 1.0,
                 reference: Reference | None = None):
        super().__init__()
        self.eval_env, self.eval_freq, self.n_episodes, self.seed = eval_env, eval_freq, n_episodes, seed
        self.discount, self.reference = discount, reference
        self.points: list[tuple[int, float]] = []
        self._next = 0
        self._writer = None

    def _evaluate(self) -> None:
        result = score_policy(self.model, self.eval_env, self.n_episodes, self.seed, discount=self.discount)
        self.points.append((int(self.num_timesteps), result.mean))
        self.logger.record("eval/mean_return", result.mean)
        self._next = self.num_timesteps + self.eval_freq
        if self._writer is not None:
            self._log_reference(result.mean)

    def _log_reference(self, learned: float) -> None:
        step, optimum = int(self.num_timesteps), self.reference.optimum
        scalars = {TB_OPTIMUM: optimum, TB_LEARNED: learned}
        scalars |= {TB_BASELINE + name: value for name, value in self.reference.baselines.items()}
        if optimum > 0:
            scalars[TB_RATIO] = learned / optimum
        for tag, value in scalars.items():
            self._writer.add_scalar(tag, value, step)

    def _on_training_start(self) -> None:
        if self.reference is not None:
            self._writer = next((output.writer for output in self.logger.output_formats
                                 if isinstance(output, TensorBoardOutputFormat)), None)
        self._evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._evaluate()
        return True

    def _on_training_end(self) -> None:
        if self.points[-1][0] != self.num_timesteps:
            self._evaluate()
        if self._writer is not None:
            self._writer.flush()

    def curve(self) -> LearningCurve:
        steps, means = zip(*self.points)
        return LearningCurve(np.array(steps, dtype=np.int64), np.array(means))


def training_config(env_id: str | None, algo: str, seed: int, action_space: spaces.Space, *,
                    env_kwargs: dict[str, Any] | None = None, eval_env_kwargs: dict[str, Any] | None = None,
                    n_timesteps: int | None = None, hyperparams: dict[str, Any] | None = None,
                    hyperparams_file: str | Path | None = None, eval_freq: int | None = None, n_eval_episodes: int = 5,
                    eval_seed: int = EVAL_SEED, eval_discount: float = 1.0) -> dict[str, Any]:
    """The full configuration of a training run (arguments as :func:`train`'s), with the defaults resolved: the
    hyperparameter entry, the budget and the evaluation frequency. Two runs with equal configurations train the
    same policy. ``ValueError`` for an algorithm that does not fit ``action_space`` or bad hyperparameters."""
    check_algorithm(algo, action_space)
    env_kwargs = dict(env_kwargs or {})
    if hyperparams is None:
        if env_id is None:
            raise ValueError("hyperparams are required when env is a factory (there is no file entry for it)")
        hyperparams = load_hyperparams(algo, env_id, hyperparams_file)
    else:
        check_keys(hyperparams, algo, "hyperparams")
    run, _ = algorithm_arguments(hyperparams, action_space)
    budget = as_positive_int(n_timesteps if n_timesteps is not None else run["n_timesteps"],
                             "n_timesteps (argument or hyperparameter entry)")
    return {"env_id": env_id, "env_kwargs": env_kwargs,
            "eval_env_kwargs": env_kwargs if eval_env_kwargs is None else dict(eval_env_kwargs), "algo": algo,
            "seed": int(seed), "n_timesteps": budget, "hyperparams": hyperparams,
            "eval_freq": as_positive_int(max(1, budget // 10) if eval_freq is None else eval_freq, "eval_freq"),
            "n_eval_episodes": as_positive_int(n_eval_episodes, "n_eval_episodes"), "eval_seed": int(eval_seed),
            "eval_discount": float(eval_discount)}


def quiet_logger(verbose: int = 0) -> Logger:
    """An SB3 logger writing to stdout if ``verbose`` (else nowhere) and creating no folder.

    SB3's own default (``configure(None, ...)``, used by ``learn`` without ``tensorboard_log``) makes an empty
    ``SB3-<date>`` folder in the temporary directory on every ``learn``: hundreds of them after a benchmark.
    """
    return Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)] if verbose >= 1 else [])


def train(env: Union[str, Callable[[], gym.Env]], algo: str = "ppo", seed: int = 0, *,
          env_kwargs: dict[str, Any] | None = None, eval_env_kwargs: dict[str, Any] | None = None,
          n_timesteps: int | None = None,
          hyperparams: dict[str, Any] | None = None, hyperparams_file: str | Path | None = None,
          eval_freq: int | None = None, n_eval_episodes: int = 5, eval_seed: int = EVAL_SEED,
          eval_discount: float | None = None, progress_bar: bool | StepProgress = True,
          tensorboard_log: str | Path | None = None, tb_log_name: str | None = None,
          reference: Reference | None = None, verbose: int = 0) -> TrainingResult:
    """Train ``algo`` on ``env`` and return the model with its learning curve.

    Args:
        env: a registered env id, or a zero-argument factory returning an Env (then ``hyperparams``
            is required and ``env_kwargs`` must be empty).
        algo: a key of :data:`ALGORITHMS`; it must fit the env's action space (``ValueError`` otherwise).
        seed: training seed (see the module doc).
        env_kwargs: JSON-style env kwargs (``"game"`` may be a name or fields, see :mod:`stratgym.agents.instances`).
        eval_env_kwargs: env kwargs of the learning-curve evaluations; default ``env_kwargs``. For a reward
            used only to train, e.g. ``PersuasionScheme-v0``'s ``{"reward": "penalized"}`` scored with ``{}``.
        n_timesteps: training budget in env steps; default: the hyperparameter entry's ``n_timesteps``.
        hyperparams: a zoo-format entry (overrides the file); default: ``env``'s entry in ``hyperparams_file``
            or in the packaged ``hyperparams/<algo>.yml``.
        eval_freq: env steps between learning-curve evaluations; default: a tenth of the budget.
        n_eval_episodes: episodes per learning-curve evaluation.
        eval_seed: seed of the first evaluation episode.
        eval_discount: discount of the evaluation returns (see :func:`~stratgym.agents.evaluate.evaluate_policy`);
            default: the reference's discount when there is a reference, else 1.
        progress_bar: show the steps trained (:class:`StepProgress` on stderr: a bar on a terminal, a few lines
            otherwise), or pass the :class:`StepProgress` to use; ``False``: nothing.
        tensorboard_log: folder for TensorBoard logs (needs the ``tensorboard`` package). Besides SB3's scalars,
            each evaluation logs the optimum, the baselines and learned/optimum (tags ``stratgym/...``, see
            :class:`CurveCallback`) when the env has a reference.
        tb_log_name: name of the TensorBoard run (a folder under ``tensorboard_log``; default the algorithm's).
        reference: the env's reference values (:func:`~stratgym.agents.references.reference_values` of ``env``
            with ``eval_env_kwargs``); default: computed when ``tensorboard_log`` is set and the env has one.
        verbose: SB3 verbosity.
    """
    env_kwargs = dict(env_kwargs or {})
    eval_env_kwargs = env_kwargs if eval_env_kwargs is None else dict(eval_env_kwargs)
    if isinstance(env, str):
        env_id = env
        factory = lambda: make_env(env_id, env_kwargs)  # noqa: E731
        eval_env = make_env(env_id, eval_env_kwargs)
    elif callable(env):
        env_id, factory = None, env
        if env_kwargs or eval_env_kwargs:
            raise ValueError("env_kwargs and eval_env_kwargs can only be given with an env id; bake them into the "
                             "factory instead")
        eval_env = factory()
    else:
        raise ValueError(f"env must be an env id or a factory returning an Env, got {type(env).__name__}")
    if tensorboard_log is not None and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("tensorboard_log needs the tensorboard package, which is not installed "
                         "(pip install tensorboard), or leave tensorboard_log unset")
    if tensorboard_log is not None and reference is None and env_id in REFERENCES:
        try:
            reference = reference_values(env_id, eval_env_kwargs, n_eval_episodes, eval_seed)
        except NoExactReference:  # e.g. a quantal agent: SB3's scalars only
            reference = None
    if eval_discount is None:
        eval_discount = reference.discount if reference is not None else 1.0
    config = training_config(env_id, algo, seed, eval_env.action_space, env_kwargs=env_kwargs,
                             eval_env_kwargs=eval_env_kwargs, n_timesteps=n_timesteps, hyperparams=hyperparams,
                             hyperparams_file=hyperparams_file, eval_freq=eval_freq, n_eval_episodes=n_eval_episodes,
                             eval_seed=eval_seed, eval_discount=eval_discount)
    algorithm = check_algorithm(algo, eval_env.action_space)
    run, kwargs = algorithm_arguments(config["hyperparams"], eval_env.action_space)

    torch.set_num_threads(1)
    start = time.perf_counter()
    vec_env = training_vec_env(env_id, factory, env_kwargs, run["n_envs"], seed)
    if (vec_env.action_space, vec_env.observation_space) != (eval_env.action_space, eval_env.observation_space):
        vec_env.close()
        raise ValueError("eval_env_kwargs must give an env with the training env's action and observation spaces "
                         f"(training: {vec_env.action_space}, {vec_env.observation_space}; evaluation: "
                         f"{eval_env.action_space}, {eval_env.observation_space})")
    model = algorithm(run["policy"], vec_env, seed=seed, device="cpu", verbose=verbose,
                      tensorboard_log=None if tensorboard_log is None else str(tensorboard_log), **kwargs)
    if tensorboard_log is None:
        model.set_logger(quiet_logger(verbose))
    curve = CurveCallback(eval_env, config["eval_freq"], config["n_eval_episodes"], eval_seed, eval_discount,
                          reference if tensorboard_log is not None else None)
    callbacks = [curve]
    if progress_bar is True:
        callbacks.append(StepProgress(f"{algo} on {env_id or 'env'}"))
    elif progress_bar:
        callbacks.append(progress_bar)
    try:
        model.learn(config["n_timesteps"], callback=callbacks, tb_log_name=tb_log_name or algorithm.__name__)
    finally:
        vec_env.close()
        eval_env.close()
    return TrainingResult(model=model, algo=algo, env_id=env_id, env_kwargs=env_kwargs, seed=seed,
                          n_timesteps=int(model.num_timesteps), curve=curve.curve(),
                          wall_time=time.perf_counter() - start, hyperparams=config["hyperparams"],
                          eval_env_kwargs=eval_env_kwargs, requested_timesteps=config["n_timesteps"], config=config)
