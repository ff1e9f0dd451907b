"""Per-environment hyperparameters in the rl-baselines3-zoo YAML format.

One file per algorithm (``hyperparams/<algo>.yml`` beside this module), keyed by environment id::

    stratgym/StatefulCommitment-v0:
      n_timesteps: 20000            # default training budget (environment steps)
      policy: MlpPolicy
      n_envs: 4                     # parallel copies of the env (DummyVecEnv)
      learning_rate: lin_3e-4       # "lin_<x>": linear decay from x to 0; a number: constant
      policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.Tanh)"   # a Python expression, as in the zoo
      n_steps: 256                  # every other key goes to the algorithm's constructor

The same file works with ``python -m rl_zoo3.train --gym-packages stratgym --env <id> --algo <algo>
-conf <file>``. The zoo-only keys that wrap or normalize the environment (``env_wrapper``,
``vec_env_wrapper``, ``frame_stack``, ``normalize``, ``callback``) are rejected by stratgym's trainer,
whose evaluation must see the unwrapped rewards that the exact optima are stated in.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from gymnasium import spaces
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.utils import LinearSchedule

#: Folder of the packaged hyperparameter files.
HYPERPARAMS_DIR = Path(__file__).with_name("hyperparams")

#: Keys of the zoo format that configure the run rather than the algorithm.
RUN_KEYS = ("n_timesteps", "policy", "n_envs")
#: Zoo keys that wrap or normalize the env: unsupported here (evaluation needs the raw rewards).
UNSUPPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "normalize", "callback")
#: Keys holding schedules: ``"lin_<x>"`` or a number.
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
#: Action-noise types of the zoo's ``noise_type`` key (off-policy algorithms on Box actions).
NOISE_TYPES = {"normal": NormalActionNoise, "ornstein-uhlenbeck": OrnsteinUhlenbeckActionNoise}


def hyperparams_file(algo: str) -> Path:
    """The packaged YAML file of algorithm ``algo`` (e.g. ``"ppo"``); ``ValueError`` if there is none."""
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.is_file():
        available = sorted(p.stem for p in HYPERPARAMS_DIR.glob("*.yml"))
        raise ValueError(f"no packaged hyperparameters for algo={algo!r}; files exist for {available}")
    return path


def load_hyperparams(algo: str, env_id: str, path: str | Path | None = None) -> dict[str, Any]:
    """The raw zoo-format entry of ``env_id`` in ``path`` (default: the packaged file of ``algo``), as a new dict."""
    path = hyperparams_file(algo) if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"hyperparameter file {str(path)!r} does not exist")
    with open(path) as handle:
        table = yaml.safe_load(handle) or {}
    if not isinstance(table, dict) or env_id not in table:
        known = sorted(table) if isinstance(table, dict) else []
        raise ValueError(f"no hyperparameters for env {env_id!r} in {str(path)!r}; it has entries for {known}")
    entry = table[env_id]
    if not isinstance(entry, dict):
        raise ValueError(f"hyperparameters of {env_id!r} in {str(path)!r} must be a mapping, got {entry!r}")
    return copy.deepcopy(entry)


def algorithm_arguments(hyperparams: dict[str, Any], action_space: spaces.Space) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a zoo-format entry into run settings and constructor keyword arguments of the algorithm.

    Returns ``(run, kwargs)``: ``run`` has ``n_timesteps`` (int or ``None`` if absent), ``policy``
    (default ``"MlpPolicy"``) and ``n_envs`` (default 1); ``kwargs`` has every other key, with
    schedules, ``policy_kwargs``, ``train_freq`` and action noise turned into objects the way the zoo does.
    """
    hyperparams = dict(hyperparams)
    unsupported = sorted(set(hyperparams) & set(UNSUPPORTED_KEYS))
    if unsupported:
        raise ValueError(f"hyperparameters {unsupported} wrap or normalize the env and are not supported by "
                         f"stratgym's trainer (use rl_zoo3 for them)")
    n_timesteps = hyperparams.pop("n_timesteps", None)
    run = {"n_timesteps": None if n_timesteps is None else _positive_int(n_timesteps, "n_timesteps"),
           "policy": hyperparams.pop("policy", "MlpPolicy"),
           "n_envs": _positive_int(hyperparams.pop("n_envs", 1), "n_envs")}
    for key in SCHEDULE_KEYS:
        if key in hyperparams:
            hyperparams[key] = _schedule(hyperparams[key], key)
    if isinstance(hyperparams.get("policy_kwargs"), str):
        hyperparams["policy_kwargs"] = _evaluate_expression(hyperparams["policy_kwargs"], "policy_kwargs")
    if isinstance(hyperparams.get("train_freq"), list):
        hyperparams["train_freq"] = tuple(hyperparams["train_freq"])
    noise_type = hyperparams.pop("noise_type", None)
    noise_std = hyperparams.pop("noise_std", None)
    if noise_type is not None:
        hyperparams["action_noise"] = _action_noise(noise_type, noise_std, action_space)
    return run, hyperparams


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or int(value) != value:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _schedule(value, name: str):
    """``"lin_<x>"`` -> linear decay from x to 0 over training; a number -> that constant (zoo semantics)."""
    if isinstance(value, str):
        kind, _, start = value.partition("_")
        try:
            start = float(start)
        except ValueError:
            start = None
        if kind != "lin" or start is None:
            raise ValueError(f"{name} must be a number or 'lin_<number>', got {value!r}")
        return LinearSchedule(start, 0.0, 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number or 'lin_<number>', got {value!r}")
    return float(value)


def _evaluate_expression(text: str, name: str):
    """Evaluate a zoo Python expression such as ``dict(net_arch=[64, 64], activation_fn=nn.Tanh)``.

    Only ``dict``, ``list``, ``tuple`` and ``torch.nn`` (as ``nn``) are in scope: the files are trusted
    configuration, as in the zoo, but a typo should fail with a clear message.
    """
    from torch import nn

    try:
        return eval(text, {"__builtins__": {}}, {"dict": dict, "list": list, "tuple": tuple, "nn": nn})  # noqa: S307
    except Exception as error:  # any failure of the expression is a configuration error
        raise ValueError(f"{name} must be a Python expression over dict/list/nn, got {text!r} ({error})") from error


def _action_noise(noise_type: str, noise_std, action_space: spaces.Space):
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {sorted(NOISE_TYPES)}, got {noise_type!r}")
    if not isinstance(action_space, spaces.Box):
        raise ValueError(f"noise_type needs a Box action space, got {action_space}")
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not noise_std > 0:
        raise ValueError(f"noise_std must be a positive number when noise_type is set, got {noise_std!r}")
    # Shaped like the action (the zoo flattens to shape[0], which breaks (T, n) actions).
    return NOISE_TYPES[noise_type](mean=np.zeros(action_space.shape), sigma=float(noise_std) * np.ones(action_space.shape))
