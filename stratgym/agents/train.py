"""Training of stable-baselines3 learners on stratgym environments, seeded, with a learning curve.

Seeding recipe (one for the whole project): ``seed`` seeds the algorithm (torch, numpy, Python
``random`` and the action space, through SB3's ``seed=``) and the training envs (copy ``i`` is reset
with ``seed + i`` first); the learning curve evaluates on episodes seeded ``eval_seed + k``. Training
runs on the CPU with one torch thread (``torch.set_num_threads(1)`` is set process-wide), which makes
two runs with the same seed produce the same policy on this machine and is the fastest setting for
these small networks on 2 cores.
"""

from __future__ import annotations

import importlib.util
import io
import json
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
from stable_baselines3.common.env_util import make_vec_env

from stratgym._io import write_atomic, write_json_atomic
from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
from stratgym.agents.hyperparams import algorithm_arguments, check_keys, load_hyperparams
from stratgym.agents.instances import make_env
from stratgym.games._validation import as_positive_int

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

    def save(self, directory: str | Path) -> Path:
        """Write ``model.zip`` and ``meta.json`` into ``directory`` (each atomically); returns the directory."""
        try:
            json.dumps([self.env_kwargs, self.eval_env_kwargs])
        except TypeError as error:
            raise ValueError("saving needs JSON-style env_kwargs (a game name or fields, not a game object)") from error
        directory = Path(directory)
        archive = io.BytesIO()
        self.model.save(archive)
        write_atomic(directory / "model.zip", archive.getvalue())
        meta = {"algo": self.algo, "env_id": self.env_id, "env_kwargs": self.env_kwargs,
                "eval_env_kwargs": self.eval_env_kwargs, "seed": self.seed,
                "n_timesteps": self.n_timesteps, "requested_timesteps": self.requested_timesteps,
                "wall_time": self.wall_time, "curve": self.curve.to_json()}
        write_json_atomic(directory / "meta.json", meta)
        return directory


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


class CurveCallback(BaseCallback):
    """Evaluate the policy every ``eval_freq`` environment steps (and at the start and end of training)."""

    def __init__(self, eval_env: gym.Env, eval_freq: int, n_episodes: int, seed: int, discount: float = 1.0):
        super().__init__()
        self.eval_env, self.eval_freq, self.n_episodes, self.seed = eval_env, eval_freq, n_episodes, seed
        self.discount = discount
        self.points: list[tuple[int, float]] = []
        self._next = 0

    def _evaluate(self) -> None:
        result = evaluate_policy(self.model, self.eval_env, self.n_episodes, self.seed, discount=self.discount)
        self.points.append((int(self.num_timesteps), result.mean))
        self.logger.record("eval/mean_return", result.mean)
        self._next = self.num_timesteps + self.eval_freq

    def _on_training_start(self) -> None:
        self._evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._evaluate()
        return True

    def _on_training_end(self) -> None:
        if self.points[-1][0] != self.num_timesteps:
            self._evaluate()

    def curve(self) -> LearningCurve:
        steps, means = zip(*self.points)
        return LearningCurve(np.array(steps, dtype=np.int64), np.array(means))


def train(env: Union[str, Callable[[], gym.Env]], algo: str = "ppo", seed: int = 0, *,
          env_kwargs: dict[str, Any] | None = None, eval_env_kwargs: dict[str, Any] | None = None,
          n_timesteps: int | None = None,
          hyperparams: dict[str, Any] | None = None, hyperparams_file: str | Path | None = None,
          eval_freq: int | None = None, n_eval_episodes: int = 5, eval_seed: int = EVAL_SEED, eval_discount: float = 1.0,
          progress_bar: bool = True, tensorboard_log: str | Path | None = None, verbose: int = 0) -> TrainingResult:
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
        eval_discount: discount of the evaluation returns (see :func:`~stratgym.agents.evaluate.evaluate_policy`).
        progress_bar: show SB3's progress bar (tqdm + rich).
        tensorboard_log: folder for TensorBoard logs (needs the ``tensorboard`` package).
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
        if hyperparams is None:
            raise ValueError("hyperparams are required when env is a factory (there is no file entry for it)")
    else:
        raise ValueError(f"env must be an env id or a factory returning an Env, got {type(env).__name__}")
    if tensorboard_log is not None and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("tensorboard_log needs the tensorboard package, which is not installed "
                         "(pip install tensorboard), or leave tensorboard_log unset")
    algorithm = check_algorithm(algo, eval_env.action_space)
    if hyperparams is None:
        hyperparams = load_hyperparams(algo, env_id, hyperparams_file)
    else:
        check_keys(hyperparams, algo, "hyperparams")
    run, kwargs = algorithm_arguments(hyperparams, eval_env.action_space)
    budget = as_positive_int(n_timesteps if n_timesteps is not None else run["n_timesteps"],
                             "n_timesteps (argument or hyperparameter entry)")
    eval_freq = as_positive_int(max(1, budget // 10) if eval_freq is None else eval_freq, "eval_freq")

    torch.set_num_threads(1)
    start = time.perf_counter()
    vec_env = make_vec_env(factory, n_envs=run["n_envs"], seed=seed)
    if (vec_env.action_space, vec_env.observation_space) != (eval_env.action_space, eval_env.observation_space):
        vec_env.close()
        raise ValueError("eval_env_kwargs must give an env with the training env's action and observation spaces "
                         f"(training: {vec_env.action_space}, {vec_env.observation_space}; evaluation: "
                         f"{eval_env.action_space}, {eval_env.observation_space})")
    model = algorithm(run["policy"], vec_env, seed=seed, device="cpu", verbose=verbose,
                      tensorboard_log=None if tensorboard_log is None else str(tensorboard_log), **kwargs)
    curve = CurveCallback(eval_env, eval_freq, n_eval_episodes, eval_seed, eval_discount)
    try:
        model.learn(budget, callback=curve, progress_bar=progress_bar)
    finally:
        vec_env.close()
        eval_env.close()
    return TrainingResult(model=model, algo=algo, env_id=env_id, env_kwargs=env_kwargs, seed=seed,
                          n_timesteps=int(model.num_timesteps), curve=curve.curve(),
                          wall_time=time.perf_counter() - start, hyperparams=hyperparams,
                          eval_env_kwargs=eval_env_kwargs, requested_timesteps=budget)
