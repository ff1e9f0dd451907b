"""Registry-wide environment tests: every ``stratgym/`` id in ``gym.registry`` gets all of them.

A newly registered env is covered the moment it is registered (Gymnasium's own registry tests do the
same). Conventions checked here, for every env: Gymnasium's and SB3's ``check_env`` pass without a single
warning; two envs seeded alike and fed the same seeded actions agree exactly; a pickled env continues
exactly like the original; invalid actions raise ``ValueError`` without consuming the step; stepping
before ``reset`` or after the episode ended raises ``gymnasium.error.ResetNeeded``; observations stay
in the observation space.
"""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from gymnasium.utils.env_checker import data_equivalence
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import stratgym  # noqa: F401  (registers the envs)
from vector_reference import SharedStreamEnvs, assert_equal_values, check_vector_env, compare

ENV_IDS = sorted(env_id for env_id in gym.registry if env_id.startswith("stratgym/"))


def test_the_registry_lists_the_stateful_envs():
    assert {"stratgym/StatefulCommitment-v0", "stratgym/StatefulPrincipal-v0", "stratgym/StatefulAgent-v0"} <= set(ENV_IDS)


def _invalid_actions(space: spaces.Space) -> dict[str, object]:
    """Actions outside ``space``: NaN, wrong shape, out of range."""
    if isinstance(space, spaces.Box):
        nan = space.sample()
        nan.flat[0] = np.nan
        too_big = space.sample()
        too_big.flat[-1] = space.high.flat[-1] + 0.5
        too_small = space.sample()
        too_small.flat[0] = space.low.flat[0] - 0.5
        return {"nan": nan, "wrong shape": np.zeros(space.shape + (2,), dtype=space.dtype),
                "flat wrong length": np.zeros(space.sample().size + 1, dtype=space.dtype),
                "above the box": too_big, "below the box": too_small}
    if isinstance(space, spaces.Discrete):
        return {"nan": np.nan, "wrong shape": np.array([space.start, space.start]),
                "above the range": space.start + space.n, "below the range": space.start - 1}
    if isinstance(space, spaces.MultiDiscrete):
        above = space.sample()
        above.flat[0] = space.nvec.flat[0] + space.start.flat[0]
        return {"nan": np.full(space.shape, np.nan), "wrong shape": np.zeros(space.shape + (2,), dtype=np.int64),
                "above the range": above}
    raise NotImplementedError(f"add invalid actions for {type(space).__name__} to this test")


@pytest.fixture(params=ENV_IDS)
def env_id(request) -> str:
    return request.param


def test_gymnasium_check_env_passes_without_warnings(env_id):
    assert gym.logger.min_level <= gym.logger.WARN, "Gymnasium warnings are silenced; the test would be vacuous"
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gymnasium_check_env(env.unwrapped)
    assert [str(warning.message) for warning in caught] == []


def test_sb3_check_env_passes_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped, warn=True)
    assert [str(warning.message) for warning in caught] == []


def test_seeded_envs_agree_exactly(env_id):
    first, second = gym.make(env_id), gym.make(env_id)
    first.action_space.seed(7)
    records = [(first.reset(seed=3), second.reset(seed=3))]
    for _ in range(25):  # several episodes of every env, stepped together with the same actions
        action = first.action_space.sample()
        records.append((first.step(action), second.step(action)))
        if records[-1][0][2] or records[-1][0][3]:
            records.append((first.reset(), second.reset()))
    for record_first, record_second in records:
        assert data_equivalence(record_first, record_second, exact=True)
        assert record_first[0].dtype == record_second[0].dtype == first.observation_space.dtype


def test_pickled_env_continues_exactly(env_id):
    env = gym.make(env_id)
    env.action_space.seed(11)
    env.reset(seed=5)
    _, _, terminated, truncated, _ = env.step(env.action_space.sample())
    if terminated or truncated:  # one-step episodes: pickle at the start of the next one instead
        env.reset()
    copy = pickle.loads(pickle.dumps(env))
    actions = [env.action_space.sample() for _ in range(12)]
    for action in actions:
        original_step, copy_step = env.step(action), copy.step(action)
        assert data_equivalence(original_step, copy_step, exact=True)
        if original_step[2] or original_step[3]:
            # Unseeded resets continue both random streams, which must have been pickled too.
            assert data_equivalence(env.reset(), copy.reset(), exact=True)


@pytest.mark.parametrize("wrapped", [False, True], ids=["unwrapped", "gym.make"])
def test_invalid_actions_raise_value_error_and_do_not_consume_the_step(env_id, wrapped):
    made, reference = gym.make(env_id), gym.make(env_id)
    env = made if wrapped else made.unwrapped
    env.reset(seed=0)
    reference.reset(seed=0)
    for action in _invalid_actions(env.action_space).values():
        with pytest.raises(ValueError):
            env.step(action)
    env.action_space.seed(1)
    action = env.action_space.sample()
    assert data_equivalence(env.step(action), reference.unwrapped.step(action), exact=True)


def test_step_before_reset_raises(env_id):
    env = gym.make(env_id).unwrapped
    with pytest.raises(ResetNeeded):
        env.step(env.action_space.sample())


def test_step_after_the_episode_ended_raises(env_id):
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    for _ in range(10_000):
        _, _, terminated, _, _ = env.step(env.action_space.sample())
        if terminated:
            break
    else:
        pytest.skip("the unwrapped env never terminates (only its registered time limit ends episodes)")
    with pytest.raises(ResetNeeded):
        env.step(env.action_space.sample())
    env.reset()
    env.step(env.action_space.sample())


def test_observations_and_rewards_stay_valid(env_id):
    env = gym.make(env_id)
    env.action_space.seed(2)
    obs, _ = env.reset(seed=2)
    assert obs in env.observation_space
    for step in range(300):
        action = env.action_space.sample()
        if isinstance(env.action_space, spaces.Box) and step % 2:
            # Corners of the box: vertices of the simplex maps and other extreme actions.
            action = np.where(np.random.default_rng(step).random(action.shape) < 0.5,
                              env.action_space.low, env.action_space.high).astype(env.action_space.dtype)
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs in env.observation_space, f"step {step}: {obs} not in {env.observation_space}"
        assert np.isfinite(reward) and isinstance(info, dict)
        if terminated or truncated:
            obs, _ = env.reset()
            assert obs in env.observation_space


def test_rgb_array_frames_have_one_shape_and_show_the_step(env_id):
    """SB3's make_vec_env and Gymnasium's RecordVideo ask for rgb_array: uint8 RGB frames of one shape per env,
    from the reset on, drawing the step's arrays after a step."""
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    env.action_space.seed(0)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frame = env.render()
        assert frame.shape == first.shape and frame.dtype == np.uint8
        assert np.any(frame != 255), "the frame of a step draws something"
        if terminated or truncated:
            env.reset()
            assert env.render().shape == first.shape


def test_make_vec_env_with_sb3_defaults_trains(env_id):
    """make_vec_env passes render_mode="rgb_array" by default; a short learn must go through on every env."""
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.env_util import make_vec_env

    vec_env = make_vec_env(env_id, n_envs=2, seed=0)
    discrete = isinstance(vec_env.action_space, spaces.Discrete)
    model = (DQN("MlpPolicy", vec_env, learning_starts=16, buffer_size=64, seed=0) if discrete
             else PPO("MlpPolicy", vec_env, n_steps=16, batch_size=32, n_epochs=1, seed=0))
    model.learn(64)
    assert model.num_timesteps >= 64
    assert vec_env.render().dtype == np.uint8  # SB3's tiled frame of the sub-envs


def test_every_env_has_a_native_vector_env(env_id):
    spec = gym.spec(env_id)
    assert spec.vector_entry_point is not None
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    assert envs.metadata["autoreset_mode"] in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
    assert envs.single_action_space == gym.make(env_id).action_space
    assert envs.single_observation_space == gym.make(env_id).observation_space


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda mode: mode.value)
@pytest.mark.parametrize("num_envs", [1, 3])
def test_native_vector_env_equals_the_scalar_env_step_for_step(env_id, num_envs, mode):
    """Every native vector env (default instance) equals scalar envs sharing its generator (``num_envs=1``: the
    scalar env under the same seed), resets, time limits and infos included, in both autoreset modes."""
    native = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    reference = SharedStreamEnvs(env_id, num_envs, mode)
    compare(native, reference, seed=5, n_steps=30 if gym.spec(env_id).max_episode_steps is None else 230)


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda mode: mode.value)
def test_native_vector_envs_equal_synchronous_copies_where_nothing_is_drawn(env_id, mode):
    """Gymnasium's SyncVectorEnv seeds each copy apart, so it equals the native env exactly when the env draws
    nothing: run both with every source of randomness fixed (a fixed plan, the expected reward)."""
    kwargs = DETERMINISTIC_KWARGS.get(env_id)
    if kwargs is None:
        pytest.skip("every episode of this env draws (a region, a recommendation, a type, an applicant)")
    kwargs = kwargs()
    native = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", autoreset_mode=mode, **kwargs)
    sync = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode},
                        **kwargs)
    assert native.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"] == mode
    np.testing.assert_array_equal(native.reset(seed=5)[0], sync.reset(seed=5)[0])
    native.action_space.seed(5)
    for _ in range(12):
        actions = native.action_space.sample()
        got, expected = native.step(actions), sync.step(actions)
        for a, b in zip(got[:4], expected[:4]):
            assert_equal_values(a, b, "sync")
        if mode is AutoresetMode.SAME_STEP:
            np.testing.assert_array_equal(got[4].get("_final_obs", np.zeros(3, bool)),
                                          expected[4].get("_final_obs", np.zeros(3, bool)))


def _fixed_plan() -> dict:
    game = gym.make("stratgym/StatefulAgent-v0").unwrapped.game
    return {"principal": np.random.default_rng(0).dirichlet(np.ones(game.n_features), size=game.horizon)}


#: Arguments that make an env draw nothing, per id (the others draw in every episode).
DETERMINISTIC_KWARGS = {"stratgym/StatefulCommitment-v0": dict, "stratgym/StatefulPrincipal-v0": dict,
                        "stratgym/StatefulAgent-v0": _fixed_plan, "stratgym/PersuasionScheme-v0": dict,
                        "stratgym/StatefulPopulation-v0": dict}


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda mode: mode.value)
def test_native_vector_envs_pass_the_vector_checks(env_id, mode):
    """What Gymnasium asks of a vector env: observations in the batched space, reset determinism under a seed,
    returned data never reused by a later call, ``ValueError`` for invalid actions, ``ResetNeeded`` before reset."""
    envs = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point", autoreset_mode=mode)
    with pytest.raises(ResetNeeded):
        envs.step(envs.action_space.sample())
    check_vector_env(envs)
