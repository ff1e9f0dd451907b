"""What every native stratgym vector env shares: autoreset (``NEXT_STEP`` or ``SAME_STEP``), time limits, the
batched action check and Gymnasium's vector ``info`` layout.

A native vector env steps ``num_envs`` episodes of one scalar env with a few numpy calls per operation, on the
same pure core as the scalar env (``stratgym.envs.stateful.core``, ``stratgym.envs.persuasion.core``). It is
the scalar env step for step, under one rule for randomness: **the sub-envs share the vector env's one
generator** (``self.np_random``, seeded by ``reset(seed=...)``), and each vector step draws what the scalar envs
would draw, in this order: with ``NEXT_STEP``, first the sub-envs being reset (in index order), then the
sub-envs stepping (in index order); with ``SAME_STEP``, first the sub-envs stepping, then the ones whose
episode just ended being reset. So ``num_envs=1`` is exactly the scalar env under the same seed, and in
general the vector env equals ``num_envs`` scalar envs that share one generator, stepped and reset in that
order (``tests/test_vector_envs.py`` checks both on every registered id). Gymnasium's ``SyncVectorEnv`` seeds
each copy apart, so it agrees with the native env exactly where the env draws nothing.

Autoreset (``autoreset_mode``, declared in ``metadata["autoreset_mode"]``):

* ``NEXT_STEP`` (default, as Gymnasium's own vector envs): a sub-env whose episode ended in the previous step
  is reset by this step instead: its action is ignored, its reward is 0, its flags are False and its
  observation is the new episode's first. (The batch of actions is checked whenever a sub-env plays; when all
  are being reset, it is not looked at.)
* ``SAME_STEP`` (what SB3 expects, see :class:`stratgym.agents.vec.NativeVecEnv`): a sub-env whose episode
  ends is reset in the same step; the observation is the new episode's first, and ``info["final_obs"]``
  (an object array, mask ``info["_final_obs"]``) and ``info["final_info"]`` hold the last ones.

``info`` follows Gymnasium's vector layout: ``info[key]`` ``(num_envs, ...)`` with the mask ``info["_" + key]``
of the sub-envs it belongs to (a scalar env's step info for those that stepped, its reset info for those that
were reset); a dict entry (the population envs' ``metrics``) is a dict of such entries, as ``SyncVectorEnv``
batches it.
"""

from __future__ import annotations

import copy

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from stratgym.envs.spaces import check_action, simplex_action
from stratgym.games.validation import as_positive_int

#: The autoreset modes the native vector envs implement.
AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


def as_autoreset_mode(mode) -> AutoresetMode:
    """``mode`` (an :class:`~gymnasium.vector.AutoresetMode` or its value) if the native envs implement it."""
    try:
        mode = AutoresetMode(mode)
    except ValueError:
        mode = None
    if mode not in AUTORESET_MODES:
        raise ValueError(f"autoreset_mode must be one of {[m.value for m in AUTORESET_MODES]}, got {mode!r}")
    return mode


def masked(values: dict[str, np.ndarray], rows, num_envs: int, mask: np.ndarray | None = None) -> dict:
    """Gymnasium's vector-info layout of ``values`` (each ``(len(rows), ...)``) for the sub-envs ``rows`` (indices, or
    ``slice(None)`` for all): ``info[key]`` ``(num_envs, ...)`` and ``info["_" + key]`` the mask (``mask``: given)."""
    if mask is None:
        if isinstance(rows, slice):
            mask = np.ones(num_envs, dtype=bool)
        else:
            mask = np.zeros(num_envs, dtype=bool)
            mask[rows] = True
    info = {}
    for key, value in values.items():
        if isinstance(value, dict):  # a dict entry: Gymnasium's nested layout, masked entry by entry
            info[key], info["_" + key] = masked(value, rows, num_envs, mask), mask
            continue
        value = np.asarray(value)
        if isinstance(rows, slice):
            full = value
        else:
            full = np.zeros((num_envs,) + value.shape[1:], dtype=value.dtype)
            full[rows] = value
        info[key], info["_" + key] = full, mask
    return info


def merge_info(first: dict, second: dict) -> dict:
    """Vector infos of disjoint sub-envs combined (keys in both: each sub-env takes the entry its mask says)."""
    if not first:
        return second
    merged = dict(first)
    for key, value in second.items():
        if key.startswith("_") or key not in merged:
            merged.setdefault(key, value)
            continue
        mask = second["_" + key]
        if isinstance(value, dict):
            combined = merge_info(merged[key], value)
        else:
            combined = np.array(merged[key], dtype=np.promote_types(merged[key].dtype, value.dtype))  # e.g. longer text
            combined[mask] = value[mask]
        merged[key], merged["_" + key] = combined, merged["_" + key] | mask
    return merged


def restricted(info: dict, keep: np.ndarray, _done: dict | None = None) -> dict:
    """A vector info with every mask (nested ones too) restricted to the sub-envs ``keep`` (new dicts, and new masks
    unless ``keep`` is everyone: masks shared by several entries, as :func:`masked` makes them, stay shared)."""
    if _done is None:
        if keep.all():
            return fresh_dicts(info)
        _done = {}
    restricted_info = {}
    for key, value in info.items():
        if isinstance(value, dict):
            restricted_info[key] = restricted(value, keep, _done)
        elif key.startswith("_"):
            mask = _done.get(id(value))
            if mask is None:
                mask = _done[id(value)] = value & keep
            restricted_info[key] = mask
        else:
            restricted_info[key] = value
    return restricted_info


def layout(info: dict) -> dict:
    """The entries of a vector info without their values: key -> ``(shape per sub-env, dtype)``, nested for dicts.
    Also of the values that :func:`masked` lays out (``(rows, ...)`` each): the same entries as their vector info."""
    layouts = {}
    for key, value in info.items():
        if not key.startswith("_"):
            value = value if isinstance(value, dict) else np.asarray(value)
            layouts[key] = layout(value) if isinstance(value, dict) else (value.shape[1:], value.dtype)
    return layouts


def nobody_info(entries: dict, num_envs: int) -> dict:
    """A vector info of the :func:`layout` ``entries`` that no sub-env has: every mask False, and read-only zeros of the
    full shape without their memory (a batch of schemes is megabytes). Everything in it is read-only, so one such
    info can be handed out at every step that has the same layout."""
    nobody, info = np.zeros(num_envs, dtype=bool), {}
    nobody.setflags(write=False)
    for key, entry in entries.items():
        if isinstance(entry, dict):
            info[key] = nobody_info(entry, num_envs)
        else:
            shape, dtype = entry
            info[key] = np.broadcast_to(np.zeros(shape, dtype=dtype), (num_envs,) + shape)
        info["_" + key] = nobody
    return info


def frozen_layout(entries: dict) -> tuple:
    """A :func:`layout` as nested tuples (hashable, equal for equal layouts)."""
    return tuple((key, frozen_layout(entry) if isinstance(entry, dict) else entry) for key, entry in entries.items())


def fresh_dicts(info: dict) -> dict:
    """``info`` with new dicts (nested ones too) holding the same values."""
    return {key: fresh_dicts(value) if isinstance(value, dict) else value for key, value in info.items()}


def with_rows(state: tuple, rows, new: tuple) -> tuple:
    """``state`` (a NamedTuple of ``(num_envs, ...)`` arrays) with the sub-envs ``rows`` replaced by ``new`` (copies:
    arrays already returned to the caller, in an ``info`` say, are never changed); ``new`` itself for all rows."""
    if isinstance(rows, slice):
        return new
    fields = []
    for field, value in zip(state, new):
        field = field.copy()
        field[rows] = value
        fields.append(field)
    return type(state)(*fields)


def rows_of(state: tuple, rows) -> tuple:
    """The sub-envs ``rows`` of ``state`` (a NamedTuple of ``(num_envs, ...)`` arrays)."""
    return state if isinstance(rows, slice) else type(state)(*(field[rows] for field in state))


def count(rows, num_envs: int) -> int:
    """How many sub-envs ``rows`` (indices, or ``slice(None)`` for all) names."""
    return num_envs if isinstance(rows, slice) else len(rows)


class RoundVectorEnv(VectorEnv):
    """Base of the native vector envs: ``num_envs`` episodes of the scalar env ``single`` (which supplies the
    spaces) stepped together, with the autoreset and randomness rules of the module docstring.

    Subclasses implement ``_restart(rows)`` (start new episodes in the sub-envs ``rows``, drawing in index order;
    returns their reset info as a dict of ``(len(rows), ...)`` arrays), ``_play(rows, mapped, actions)`` (one step
    of the sub-envs ``rows``, indices or ``slice(None)``; returns ``(rewards, terminated, info)`` for them) and
    ``_observations()`` (all ``(num_envs, ...)``); and may override ``_map_actions``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, single, num_envs: int, autoreset_mode=AutoresetMode.NEXT_STEP,
                 max_episode_steps: int | None = None):
        self.num_envs = as_positive_int(num_envs, "num_envs")
        self.autoreset_mode = as_autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        self.max_episode_steps = None if max_episode_steps is None else as_positive_int(max_episode_steps,
                                                                                        "max_episode_steps")
        self.single = single
        self.single_action_space = single.action_space
        self.single_observation_space = single.observation_space
        self.action_space = batch_space(single.action_space, self.num_envs)
        self.observation_space = batch_space(single.observation_space, self.num_envs)
        self._simplex_actions = isinstance(single.action_space, spaces.Box)
        self._elapsed: np.ndarray | None = None  # steps of the current episodes; None before the first reset
        # The last step's info values from _play, once one was played with keep_info: their layout is only needed when
        # nobody plays, so it is worked out then, not after every played step.
        self._last_played: dict | None = None
        self._nobody: dict = {}  # frozen_layout -> its nobody_info, built once per layout (dozens of entries)
        self._ended = np.zeros(self.num_envs, dtype=bool)
        #: ``False``: ``reset`` and ``step`` return no info entries but the autoreset's ``final_obs`` /
        #: ``_final_obs`` (``SAME_STEP``; ``final_info`` empty), for learners that read none (the SB3 adapter,
        #: :class:`stratgym.agents.vec.NativeVecEnv`): the same episodes, without the per-step cost of Gymnasium's
        #: masked info layout.
        self.keep_info = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start new episodes in every sub-env (seeding the shared generator if ``seed`` is given)."""
        super().reset(seed=seed)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._ended = np.zeros(self.num_envs, dtype=bool)
        info = self._restart(slice(None))
        return self._observations(), self._vector_info(info, slice(None))

    def _vector_info(self, values: dict, rows) -> dict:
        """:func:`masked` ``values`` of the sub-envs ``rows``, or nothing without ``keep_info``."""
        return masked(values, rows, self.num_envs) if self.keep_info else {}

    def _map_actions(self, actions) -> np.ndarray:
        """The batch of actions checked (``ValueError`` naming ``actions``) and, for Box spaces, on the simplex."""
        if self._simplex_actions:
            return simplex_action(self.action_space, actions, name="actions")
        return check_action(self.action_space, actions, name="actions")

    def step(self, actions):
        """One step of every sub-env (see the module docstring for the autoreset)."""
        if self._elapsed is None:
            raise ResetNeeded("cannot call step() before reset()")
        n = self.num_envs
        info: dict = {}
        if self.autoreset_mode is AutoresetMode.NEXT_STEP and self._ended.any():
            playing = np.flatnonzero(~self._ended)
            # Every sub-env is being reset: the actions are ignored, unchecked (as SyncVectorEnv ignores them).
            mapped = (self._map_actions(actions) if playing.size else
                      np.empty((0,) + self.single_action_space.shape, dtype=self.single_action_space.dtype))
            restarting = np.flatnonzero(self._ended)
            info = self._vector_info(self._restart(restarting), restarting)
            self._elapsed[restarting] = 0
            rows = playing
        else:
            mapped, rows = self._map_actions(actions), slice(None)
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        if isinstance(rows, slice) or rows.size or (self.keep_info and self._last_played is None):
            step_rewards, step_terminated, step_info = self._play(rows, mapped, actions)
            rewards[rows], terminated[rows] = step_rewards, step_terminated
            self._elapsed[rows] += 1
            if self.max_episode_steps is not None:
                truncated[rows] = self._elapsed[rows] >= self.max_episode_steps
            if self.keep_info:
                self._last_played = step_info
            step_info = self._vector_info(step_info, rows)
        elif not self.keep_info:
            step_info = {}
        else:  # nobody plays (all being reset): the step's keys, every mask False, so that info keeps its layout
            entries = layout(self._last_played)
            key = frozen_layout(entries)
            if key not in self._nobody:  # a few layouts at most (e.g. an episode's last round adds its metrics)
                self._nobody[key] = nobody_info(entries, n)
            step_info = fresh_dicts(self._nobody[key])  # its arrays are read-only, but wrappers add keys to an info
        ended = terminated | truncated
        if self.autoreset_mode is AutoresetMode.SAME_STEP and ended.any():
            final_obs = self._observations()
            finished = np.flatnonzero(ended)
            reset_info = self._vector_info(self._restart(finished), finished)
            self._elapsed[finished] = 0
            # The step info of the finished sub-envs moves to final_info; their top-level entries are the reset's.
            info = merge_info(restricted(step_info, ~ended), reset_info)
            final = np.empty(n, dtype=object)
            final[finished] = list(final_obs[finished])
            info["final_obs"], info["_final_obs"] = final, ended.copy()
            info["final_info"] = restricted(step_info, ended)
            info["_final_info"] = ended.copy()
            self._ended = np.zeros(n, dtype=bool)
        else:
            info = merge_info(info, step_info)
            self._ended = ended
        return self._observations(), rewards, terminated, truncated, info

    def _restart(self, rows) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _play(self, rows, mapped: np.ndarray, actions) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        raise NotImplementedError


class SubEnvLoop:
    """Sub-envs played one at a time by their own copies of the scalar env ``single``, all drawing from the vector
    env's generator: the fallback of a native vector env for what no batched rule covers (a custom, stateful
    opponent), with exactly the scalar env's arithmetic. ``obs`` holds every sub-env's current observation."""

    def __init__(self, single, num_envs: int):
        self.envs = [copy.deepcopy(single) for _ in range(num_envs)]
        self.obs = np.zeros((num_envs,) + single.observation_space.shape, dtype=single.observation_space.dtype)

    def restart(self, rows, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Reset the sub-envs ``rows`` in index order; their reset infos stacked."""
        infos = []
        for i in np.arange(len(self.envs))[rows]:
            self.envs[i].np_random = rng
            self.obs[i], info = self.envs[i].reset()
            infos.append(info)
        return _stacked(infos)

    def play(self, rows, actions, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Step the sub-envs ``rows`` with their rows of ``actions`` in index order: ``(rewards, terminated, info)``."""
        rewards, terminated, infos = [], [], []
        for i in np.arange(len(self.envs))[rows]:
            self.envs[i].np_random = rng
            self.obs[i], reward, ended, _, info = self.envs[i].step(actions[i])
            rewards.append(reward)
            terminated.append(ended)
            infos.append(info)
        return np.array(rewards, dtype=np.float64), np.array(terminated, dtype=bool), _stacked(infos)


def _stacked(infos: list[dict]) -> dict[str, np.ndarray]:
    """Per-sub-env info dicts (the same keys) as one dict of stacked arrays (nested for dict entries)."""
    return {key: _stacked([info[key] for info in infos]) if isinstance(value, dict) else
            np.array([info[key] for info in infos]) for key, value in (infos[0] if infos else {}).items()}
