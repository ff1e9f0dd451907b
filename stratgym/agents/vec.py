"""Stable-Baselines3 on the native vector envs: :class:`NativeVecEnv` is an SB3 ``VecEnv`` over any Gymnasium vector
env with ``SAME_STEP`` autoreset (SB3's own convention: the observation after a finished episode is the next
episode's first, the last one is in ``infos[i]["terminal_observation"]``), and :func:`training_vec_env` builds
what :func:`stratgym.agents.train.train` trains on: the native vector env whenever it trains on more than one
env, SB3's ``make_vec_env`` otherwise.

```python
>>> from stable_baselines3 import PPO
>>> from stratgym.agents.vec import native_vec_env
>>> vec_env = native_vec_env("stratgym/StatefulPrincipal-v0", n_envs=64, seed=0)
>>> model = PPO("MlpPolicy", vec_env, n_steps=8, batch_size=128, n_epochs=1, seed=0).learn(512)
>>> model.num_timesteps
512

```
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from stratgym.agents.instances import make_env, resolve_env_kwargs
from stratgym.envs.vector import RoundVectorEnv
from stratgym.games.validation import as_positive_int


class NativeVecEnv(VecEnv):
    """SB3's ``VecEnv`` interface over a Gymnasium vector env ``envs`` whose ``metadata["autoreset_mode"]`` is
    ``SAME_STEP`` (``ValueError`` otherwise).

    ``step_wait`` returns ``(obs, rewards, dones, infos)`` with ``dones = terminated | truncated``; ``infos[i]`` has
    ``"TimeLimit.truncated"`` (truncated and not terminated: SB3 bootstraps from it) and, for a finished episode,
    ``"terminal_observation"``, plus the vector env's info entries named in ``info_keys`` (copied per sub-env only
    when asked for: building thousands of dicts per step is the adapter's main cost; without ``info_keys`` a
    stratgym vector env is told to build no info at all, ``keep_info = False``). ``seed(s)`` seeds the next
    reset with ``s`` (the vector env has one generator). Attributes (``get_attr``) are read from the vector env,
    else from its scalar env (``envs.single``), the same for every index; the sub-envs wear no Gymnasium wrappers.
    """

    def __init__(self, envs: gym.vector.VectorEnv, info_keys: tuple[str, ...] = ()):
        if envs.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError(f"NativeVecEnv needs a vector env with autoreset_mode SAME_STEP (SB3's convention), got "
                             f"{envs.metadata.get('autoreset_mode')!r}: pass autoreset_mode=AutoresetMode.SAME_STEP")
        self.envs = envs
        self.info_keys = tuple(info_keys)
        if not self.info_keys and isinstance(envs.unwrapped, RoundVectorEnv):
            envs.unwrapped.keep_info = False  # nothing of it is read: skip building Gymnasium's masked layout
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self):
        obs, info = self.envs.reset(seed=self._seeds[0], options=self._options[0] or None)
        self.reset_infos = self._per_env(info, np.ones(self.num_envs, dtype=bool))
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.envs.step(self._actions)
        dones = terminated | truncated
        infos = self._per_env(info, np.zeros(self.num_envs, dtype=bool))
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards, dones, infos

    def _per_env(self, info: dict, default: np.ndarray) -> list[dict[str, Any]]:
        """One dict per sub-env with the ``info_keys`` entries it has (``"TimeLimit.truncated"`` False by default)."""
        infos = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
        for key in self.info_keys:
            if key in info:
                for i in np.flatnonzero(info.get("_" + key, default)):
                    infos[i][key] = info[key][i]
        return infos

    def close(self) -> None:
        self.envs.close()

    def _owner(self, attr_name: str):
        return self.envs if hasattr(self.envs, attr_name) else self.envs.unwrapped.single

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self._owner(attr_name), attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self._owner(attr_name), attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        result = getattr(self._owner(method_name), method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> list[None]:
        return [None for _ in range(self.num_envs)]


class EpisodeMonitor(VecMonitor):
    """SB3's ``VecMonitor`` (each finished episode's return ``"r"``, length ``"l"`` and time ``"t"`` in
    ``info["episode"]``, the same values and types; a results file if ``filename``), with the per-step work done on
    the finished sub-envs only. Why: with one-round episodes every sub-env finishes every step, and
    ``VecMonitor``'s Python loop over all of them, one scalar at a time, cost more than the native env's own step."""

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.episode_returns += rewards
        self.episode_lengths += 1
        finished = np.flatnonzero(dones)
        if finished.size:
            infos = list(infos)
            elapsed = round(time.time() - self.t_start, 6)
            for i, episode_return, episode_length in zip(finished.tolist(), self.episode_returns[finished],
                                                         self.episode_lengths[finished]):
                info = infos[i].copy()
                episode_info = {"r": episode_return, "l": episode_length, "t": elapsed}
                for key in self.info_keywords:
                    episode_info[key] = info[key]
                info["episode"] = episode_info
                if self.results_writer:
                    self.results_writer.write_row(episode_info)
                infos[i] = info
            self.episode_count += finished.size
            self.episode_returns[finished] = 0
            self.episode_lengths[finished] = 0
        return obs, rewards, dones, infos


def native_vec_env(env_id: str, n_envs: int, seed: int | None = None, env_kwargs: dict[str, Any] | None = None,
                   monitor: bool = True) -> VecEnv:
    """The native vector env of ``env_id`` (``SAME_STEP``) as an SB3 ``VecEnv`` (in :class:`EpisodeMonitor`, a
    ``VecMonitor``, if ``monitor``, so SB3 logs episode returns), seeded with ``seed`` at the first reset. ``env_kwargs`` are resolved as
    :func:`~stratgym.agents.instances.make_env` resolves them (game names, agent specs) and checked by building one
    scalar env first (``ValueError`` naming a bad argument); ``ValueError`` if the id has no vector entry point."""
    n_envs = as_positive_int(n_envs, "n_envs")
    make_env(env_id, env_kwargs).close()  # checks the id and the arguments, with make_env's messages
    if gym.spec(env_id).vector_entry_point is None:
        raise ValueError(f"{env_id} has no native vector env (vector_entry_point)")
    kwargs = resolve_env_kwargs(env_id, copy.deepcopy(env_kwargs or {}))
    envs = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP, **kwargs)
    vec_env: VecEnv = NativeVecEnv(envs)
    if monitor:
        vec_env = EpisodeMonitor(vec_env)
    vec_env.seed(seed)
    return vec_env


def training_vec_env(env_id: str | None, factory: Callable[[], gym.Env], env_kwargs: dict[str, Any] | None,
                     n_envs: int, seed: int) -> VecEnv:
    """What training runs on: :func:`native_vec_env` when training on more than one env of a registered id with a
    native vector env; otherwise SB3's ``make_vec_env(factory, n_envs, seed)`` (one env, or a custom factory)."""
    if env_id is not None and n_envs > 1 and gym.spec(env_id).vector_entry_point is not None:
        return native_vec_env(env_id, n_envs, seed, env_kwargs)
    return make_vec_env(factory, n_envs=n_envs, seed=seed)
