"""The reference a native vector env must equal: ``num_envs`` scalar envs (``gym.make``, so with the registered time
limit) sharing one generator, reset and stepped in the order ``stratgym.envs.vector`` documents (``NEXT_STEP``:
the sub-envs being reset first, then the others step; ``SAME_STEP``: all step, then the finished ones reset).

``compare(native, reference, seed, n_steps)`` runs both on the same seeded actions and checks observations,
rewards, flags and every entry of the scalar envs' infos against the native env's masked vector infos.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import iterate


class SharedStreamEnvs:
    """``num_envs`` scalar envs of ``env_id`` (built with ``kwargs``) drawing from one generator, autoreset like a
    native vector env in ``mode``. ``reset``/``step`` return batched obs, rewards and flags, and per-sub-env infos
    (``step``: ``(kind, info)`` with kind ``"step"``, ``"reset"`` or, in ``SAME_STEP``, ``"final"`` for the step info
    of a finished episode followed by ``"reset"``)."""

    def __init__(self, env_id: str, num_envs: int, mode: AutoresetMode, **kwargs):
        # Each its own copy of the arguments (a receiver is stateful), as stratgym.agents.instances.make_env does.
        self.envs = [gym.make(env_id, **copy.deepcopy(kwargs)) for _ in range(num_envs)]
        self.mode = mode
        self.ended = np.zeros(num_envs, dtype=bool)

    def reset(self, seed: int):
        rng = seeding.np_random(seed)[0]
        for env in self.envs:
            env.np_random = rng
        results = [env.reset() for env in self.envs]
        self.ended[:] = False
        return np.stack([obs for obs, _ in results]), [[("reset", info)] for _, info in results]

    def step(self, actions, action_space):
        n = len(self.envs)
        actions = list(iterate(action_space, actions))
        obs, rewards = [None] * n, np.zeros(n)
        terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        infos = [[] for _ in range(n)]
        if self.mode is AutoresetMode.NEXT_STEP:
            for i in np.flatnonzero(self.ended):
                obs[i], info = self.envs[i].reset()
                infos[i].append(("reset", info))
        for i in range(n):
            if self.mode is AutoresetMode.NEXT_STEP and self.ended[i]:
                continue
            obs[i], rewards[i], terminated[i], truncated[i], info = self.envs[i].step(actions[i])
            infos[i].append(("step", info))
        ended = terminated | truncated
        if self.mode is AutoresetMode.SAME_STEP:
            final_obs = list(obs)
            for i in np.flatnonzero(ended):
                infos[i] = [("final", infos[i][0][1])]
                obs[i], info = self.envs[i].reset()
                infos[i].append(("reset", info))
            self.ended[:] = False
        else:
            final_obs = None
            self.ended = ended
        return np.stack(obs), rewards, terminated, truncated, infos, final_obs


def assert_equal_values(got, expected, what: str) -> None:
    """Exactly equal, except floats: equal up to the last bits of a sum (BLAS orders sums by batch size), and float32
    observations up to one rounding of those."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    if np.issubdtype(expected.dtype, np.floating) or np.issubdtype(got.dtype, np.floating):
        float32 = got.dtype == np.float32 or expected.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=3e-7 if float32 else 1e-10, atol=1e-7 if float32 else 1e-12,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def _check_info(vector_info: dict, i: int, expected: dict, what: str) -> None:
    for key, value in expected.items():
        assert vector_info.get("_" + key, np.zeros(i + 1, bool))[i], f"{what}: info[{key!r}] missing for sub-env {i}"
        if isinstance(value, dict):  # a dict entry: batched entry by entry (SyncVectorEnv's layout)
            _check_info(vector_info[key], i, value, f"{what}: info[{key!r}]")
        else:
            assert_equal_values(vector_info[key][i], value, f"{what}: info[{key!r}][{i}]")


def compare(native, reference: SharedStreamEnvs, seed: int, n_steps: int) -> None:
    """Run ``native`` and ``reference`` side by side on seeded actions and check they agree at every step."""
    assert native.metadata["autoreset_mode"] is reference.mode
    obs, info = native.reset(seed=seed)
    expected_obs, expected_infos = reference.reset(seed)
    assert_equal_values(obs, expected_obs, "reset obs")
    for i, ((_, expected),) in enumerate(expected_infos):
        _check_info(info, i, expected, "reset")
    native.action_space.seed(seed)
    for step in range(n_steps):
        actions = native.action_space.sample()
        obs, rewards, terminated, truncated, info = native.step(actions)
        expected_obs, expected_rewards, expected_terminated, expected_truncated, infos, final_obs = \
            reference.step(actions, native.action_space)
        what = f"step {step}"
        assert_equal_values(obs, expected_obs, f"{what} obs")
        assert_equal_values(rewards, expected_rewards, f"{what} rewards")
        np.testing.assert_array_equal(terminated, expected_terminated, err_msg=f"{what} terminated")
        np.testing.assert_array_equal(truncated, expected_truncated, err_msg=f"{what} truncated")
        for i, entries in enumerate(infos):
            for kind, expected in entries:
                if kind == "final":
                    assert info["_final_obs"][i], f"{what}: final_obs missing for sub-env {i}"
                    assert_equal_values(info["final_obs"][i], final_obs[i], f"{what} final_obs")
                    _check_info(info["final_info"], i, expected, f"{what} final_info")
                else:
                    _check_info(info, i, expected, f"{what} {kind}")


def _invalid_batches(space) -> list:
    """Batches of actions a vector env must reject: NaN, the wrong shape, out of range, non-integers."""
    sample = space.sample()
    if np.issubdtype(sample.dtype, np.floating):
        nan, too_big = sample.copy(), sample.copy()
        nan.flat[0] = np.nan
        too_big.flat[-1] = 1.5
        return [nan, too_big, sample[:-1], sample.reshape(-1)]
    above = sample.copy()
    above[0] = space.nvec[0]
    return [above, sample - sample.max() - 1, sample[:-1], sample.astype(np.float64) + 0.5]


def check_vector_env(envs, seed: int = 3, n_steps: int = 20) -> None:
    """Gymnasium's expectations of a vector env (``check_env`` has no vector version): seeded resets and steps are
    deterministic, observations stay in the batched space, returned data is never reused by a later call
    (Gymnasium's own check), flags and rewards have the batch's shape and dtype, and invalid actions raise
    ``ValueError`` without consuming the step."""
    from gymnasium.utils.env_checker import data_equivalence
    from gymnasium.utils.passive_env_checker import data_shares_objects

    runs = []
    for _ in range(2):
        envs.action_space.seed(seed)
        record = [envs.reset(seed=seed)]
        for _ in range(n_steps):
            record.append(envs.step(envs.action_space.sample()))
        runs.append(record)
    assert data_equivalence(runs[0], runs[1], exact=True), "seeded runs differ"
    n = envs.num_envs
    for step in runs[0]:
        assert step[0] in envs.observation_space
        if len(step) == 5:
            _, rewards, terminated, truncated, info = step
            assert rewards.shape == (n,) and np.issubdtype(rewards.dtype, np.floating)
            assert terminated.shape == truncated.shape == (n,) and terminated.dtype == truncated.dtype == bool
            assert all(info["_" + key].shape == (n,) for key in info if not key.startswith("_")
                       and key not in ("final_obs", "final_info"))
    returned = [(step[0], step[-1]) for step in runs[0]]  # (obs, info) of every call, in order
    for (obs_1, info_1), (obs_2, info_2) in zip(returned, returned[1:]):
        assert not data_shares_objects(obs_1, obs_2) and not data_shares_objects(info_1, info_2), "data reused"
    envs.reset(seed=seed)
    twin = gym.make_vec(envs.spec.id, num_envs=n, vectorization_mode="vector_entry_point",
                        **{key: value for key, value in envs.spec.kwargs.items()
                           if key not in ("num_envs", "vectorization_mode", "max_episode_steps")})
    twin.reset(seed=seed)
    for actions in _invalid_batches(envs.action_space):
        try:
            envs.step(actions)
        except ValueError:
            continue
        raise AssertionError(f"invalid actions {actions!r} were accepted")
    envs.action_space.seed(seed)
    actions = envs.action_space.sample()
    assert data_equivalence(envs.step(actions), twin.step(actions), exact=True), "an invalid step changed the state"
