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
-conf <file>`` (tested for every packaged file and env). The zoo-only keys that wrap, normalize or
reconfigure the environment (``env_wrapper``, ``vec_env_wrapper``, ``frame_stack``, ``normalize``,
``env_kwargs``, ``monitor_kwargs``, and callbacks other than the one below) are rejected by stratgym's
trainer, whose evaluation must see the unwrapped rewards that the exact optima are stated in. Any other
key must be a keyword of the algorithm's constructor (a misspelt key is an error naming it).

Action noise. The zoo's ``noise_type``/``noise_std`` build noise of shape ``(action_shape[0],)``, which
cannot be added to the 2-d actions of ``StatefulCommitment-v0`` ``(T, n)`` and ``PersuasionScheme-v0``
``(R, A)`` (the zoo crashes with "operands could not be broadcast together"). The packaged files
therefore give TD3 its noise as a callback both tools understand, shaped like the action::

    callback:
      - stratgym.agents.hyperparams.ShapedActionNoise: {noise_type: normal, noise_std: 0.2}

stratgym's trainer also accepts ``noise_type``/``noise_std`` (shaped like the action too), but a file
using them on a 2-d action env works with stratgym only, not with the zoo.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from gymnasium import spaces
import stable_baselines3
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise, VectorizedActionNoise
from stable_baselines3.common.utils import LinearSchedule

from stratgym.games.validation import as_positive_int
from stratgym.registry import env_entry

#: Folder of the packaged hyperparameter files.
HYPERPARAMS_DIR = Path(__file__).with_name("hyperparams")

#: Keys of the zoo format that configure the run rather than the algorithm.
RUN_KEYS = ("n_timesteps", "policy", "n_envs")
#: Zoo keys that wrap, normalize or reconfigure the env: unsupported here (evaluation needs the raw rewards of
#: the env the caller asked for).
UNSUPPORTED_KEYS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "normalize", "env_kwargs", "monitor_kwargs")
#: Constructor keywords both trainers pass themselves (from their seed, device, verbosity and logging options).
TRAINER_KEYS = ("seed", "device", "verbose", "tensorboard_log")
#: Keys the zoo reads itself (never passed to the algorithm's constructor).
ZOO_KEYS = RUN_KEYS + UNSUPPORTED_KEYS + ("noise_type", "noise_std", "callback")
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
    """The raw zoo-format entry of ``env_id`` in ``path`` (default: the packaged file of ``algo``, then the env's own
    registry entry, :attr:`stratgym.registry.EnvEntry.hyperparams`), as a new dict."""
    path = hyperparams_file(algo) if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"hyperparameter file {str(path)!r} does not exist")
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ValueError(f"hyperparameter file {str(path)!r} is not valid YAML: "
                         f"{getattr(error, 'problem', None) or error}{where}") from error
    if not isinstance(table, dict) or env_id not in table:
        declared = _declared_hyperparams(env_id).get(algo) if path == hyperparams_file(algo) else None
        if declared is None:
            known = sorted(table) if isinstance(table, dict) else []
            raise ValueError(f"no hyperparameters for env {env_id!r} in {str(path)!r}; it has entries for {known}")
        table = {env_id: dict(declared)}
    entry = table[env_id]
    if not isinstance(entry, dict):
        raise ValueError(f"hyperparameters of {env_id!r} in {str(path)!r} must be a mapping, got {entry!r}")
    check_keys(entry, algo, f"hyperparameters of {env_id!r} in {str(path)!r}")
    return copy.deepcopy(entry)


def _declared_hyperparams(env_id: str) -> dict[str, Any]:
    """The hyperparameters ``env_id``'s registry entry declares (an env of a family added at run time); ``{}``."""
    try:
        return dict(env_entry(env_id).hyperparams)
    except ValueError:  # not a stratgym env
        return {}


def check_keys(entry: dict[str, Any], algo: str, where: str = "hyperparams") -> None:
    """``ValueError`` naming the keys of ``entry`` that are neither zoo keys nor keywords of ``algo``'s constructor.

    Checked here because SB3 would only fail later, with a TypeError that does not say which file or entry.
    An algorithm stable-baselines3 does not export is left to :func:`stratgym.agents.train.check_algorithm`.
    """
    algorithm = getattr(stable_baselines3, algo.upper(), None) if isinstance(algo, str) else None
    if algorithm is None:
        return
    reserved = sorted(set(entry) & set(TRAINER_KEYS))
    if reserved:
        raise ValueError(f"{where}: {', '.join(reserved)} cannot be set in a hyperparameter entry: the trainer "
                         f"(stratgym's or the zoo's) passes them from its own arguments")
    keywords = {name for name in inspect.signature(algorithm.__init__).parameters
                if not name.startswith("_")} - {"self", "env", "policy"} - set(TRAINER_KEYS)
    unknown = sorted(set(entry) - keywords - set(ZOO_KEYS))
    if unknown:
        hints = [f"{key}: did you mean {close[0]}?" for key in unknown
                 if (close := difflib.get_close_matches(key, keywords | set(ZOO_KEYS), n=1))]
        raise ValueError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
                         f"{algorithm.__name__}{' (' + ', '.join(hints) + ')' if hints else ''}; it takes "
                         f"{', '.join(sorted(keywords))} and the zoo keys {', '.join(ZOO_KEYS)}")


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
    if "callback" in hyperparams:
        if noise_type is not None:
            raise ValueError("give action noise once: noise_type or the ShapedActionNoise callback, not both")
        noise_type, noise_std = _noise_callback(hyperparams.pop("callback"))
    if noise_type is not None:
        hyperparams["action_noise"] = _action_noise(noise_type, noise_std, action_space)
    return run, hyperparams


def _positive_int(value, name: str) -> int:
    # Zoo files write budgets as floats (``n_timesteps: !!float 1e5``): a whole float counts as an integer.
    return as_positive_int(int(value) if isinstance(value, float) and value.is_integer() else value, name)


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


def _noise_callback(spec) -> tuple[str, Any]:
    """``(noise_type, noise_std)`` of a zoo ``callback`` entry that is exactly one :class:`ShapedActionNoise`.

    Other callbacks are refused: they would run in the zoo but be silently dropped here.
    """
    name = f"{ShapedActionNoise.__module__}.{ShapedActionNoise.__name__}"
    items = spec if isinstance(spec, list) else [spec]
    if len(items) == 1 and isinstance(items[0], dict) and list(items[0]) == [name] and isinstance(items[0][name], dict):
        arguments = items[0][name]
        unknown = sorted(set(arguments) - {"noise_type", "noise_std"})
        if not unknown:
            return arguments.get("noise_type", "normal"), arguments.get("noise_std")
    raise ValueError(f"the only callback stratgym's trainer supports is {{{name}: {{noise_type: ..., noise_std: ...}}}}, "
                     f"got {spec!r} (use rl_zoo3 for other callbacks)")


class ShapedActionNoise(BaseCallback):
    """Exploration noise shaped like the env's actions, given as an rl-baselines3-zoo ``callback``.

    The zoo's ``noise_type`` builds noise of shape ``(action_shape[0],)``, which breaks 2-d Box actions. The zoo
    instantiates this callback from the file (``callback: [{stratgym.agents.hyperparams.ShapedActionNoise:
    {noise_type: normal, noise_std: 0.2}}]``), and it sets the algorithm's ``action_noise`` when training
    starts, before the first action is taken; stratgym's trainer reads the same entry and passes the same noise
    to the constructor instead (see the module doc).
    """

    def __init__(self, noise_type: str, noise_std: float, verbose: int = 0):
        super().__init__(verbose)
        _action_noise(noise_type, noise_std, spaces.Box(-1.0, 1.0, (1,)))  # a bad entry fails before training
        self.noise_type, self.noise_std = noise_type, noise_std

    def _on_training_start(self) -> None:
        noise = _action_noise(self.noise_type, self.noise_std, self.model.action_space)
        # SB3 vectorizes the constructor's noise for several envs in _setup_learn, which has already run.
        self.model.action_noise = VectorizedActionNoise(noise, self.model.n_envs) if self.model.n_envs > 1 else noise

    def _on_step(self) -> bool:
        return True


def _action_noise(noise_type: str, noise_std, action_space: spaces.Space):
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {sorted(NOISE_TYPES)}, got {noise_type!r}")
    if not isinstance(action_space, spaces.Box):
        raise ValueError(f"noise_type needs a Box action space, got {action_space}")
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not noise_std > 0:
        raise ValueError(f"noise_std must be a positive number when noise_type is set, got {noise_std!r}")
    # Shaped like the action (the zoo flattens to shape[0], which breaks (T, n) actions).
    return NOISE_TYPES[noise_type](mean=np.zeros(action_space.shape), sigma=float(noise_std) * np.ones(action_space.shape))
