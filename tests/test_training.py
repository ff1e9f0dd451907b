"""Training, evaluation, hyperparameter files and env-kwargs resolution."""

import importlib.util
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium import spaces
from stable_baselines3 import TD3
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.utils import LinearSchedule

import stratgym  # noqa: F401
from stratgym.agents.evaluate import Evaluation, evaluate_policy
from stratgym.agents.hyperparams import (
    HYPERPARAMS_DIR,
    ShapedActionNoise,
    algorithm_arguments,
    hyperparams_file,
    load_hyperparams,
)
from stratgym.agents.instances import build_game, env_family, make_env, parse_env_kwargs, resolve_env_kwargs
from stratgym.agents.responses import QuantalReceiver
from stratgym.agents.references import reference_values
from stratgym.agents.train import (
    ALGORITHMS,
    StepProgress,
    check_algorithm,
    config_differences,
    load_model,
    run_folder_name,
    steps_to_train,
    train,
)
from stratgym.games.stateful import StatefulGame, classroom

STRATGYM_IDS = sorted(k for k in gym.registry if k.startswith("stratgym/"))


class MatchingEnv(gym.Env):
    """SB3 IdentityEnv-style: observe a target in 0..3, earn 1 for naming it; 8 steps, so the optimum is 8."""

    def __init__(self, n: int = 4, length: int = 8):
        self.n, self.length = n, length
        self.observation_space = spaces.Discrete(n)
        self.action_space = spaces.Discrete(n)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.target = 0, int(self.np_random.integers(self.n))
        return self.target, {}

    def step(self, action):
        reward = float(int(action) == self.target)
        self.t += 1
        self.target = int(self.np_random.integers(self.n))
        return self.target, reward, self.t >= self.length, False, {}


class MatchingBoxEnv(gym.Env):
    """Continuous twin: observe x in [-1, 1], act a in [-1, 1], earn 1 - |a - x|; one step, optimum 1."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = self.np_random.uniform(-1, 1, (1,)).astype(np.float32)
        return self.x, {}

    def step(self, action):
        return self.x, float(1.0 - abs(float(action[0]) - float(self.x[0]))), True, False, {}


PPO_SMALL = {"policy": "MlpPolicy", "n_steps": 128, "batch_size": 64, "n_epochs": 4, "learning_rate": 3e-3}


def test_ppo_learns_the_matching_env_optimum():
    result = train(MatchingEnv, "ppo", seed=0, n_timesteps=2048, hyperparams=PPO_SMALL, progress_bar=False)
    final = evaluate_policy(result.model, MatchingEnv(), n_episodes=20, seed=123)
    assert final.mean >= 0.95 * 8
    assert result.curve.mean_returns[0] < 0.95 * 8  # it had to learn it
    assert result.curve.timesteps[0] == 0 and result.curve.timesteps[-1] == result.model.num_timesteps


def test_sac_learns_the_continuous_matching_env():
    hyperparams = {"policy": "MlpPolicy", "learning_starts": 100, "batch_size": 64, "learning_rate": 3e-3,
                   "policy_kwargs": "dict(net_arch=[32, 32])"}
    result = train(MatchingBoxEnv, "sac", seed=0, n_timesteps=800, hyperparams=hyperparams, progress_bar=False)
    assert evaluate_policy(result.model, MatchingBoxEnv(), n_episodes=50, seed=1).mean >= 0.9


def test_training_creates_no_folder_in_the_temporary_directory(tmp_path, monkeypatch):
    # SB3's default logger makes an empty SB3-<date> folder per learn; a benchmark left hundreds in /tmp
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    train(MatchingEnv, "ppo", seed=0, n_timesteps=128, hyperparams=PPO_SMALL, progress_bar=False)
    assert list(tmp_path.glob("SB3-*")) == []


def _actions(result, observations):
    return np.array([result.model.predict(o, deterministic=True)[0] for o in observations])


def test_seeded_training_is_reproducible():
    env_kwargs = {"game": {"name": "classroom", "horizon": 3}}
    hyperparams = dict(PPO_SMALL, n_steps=64, policy_kwargs="dict(net_arch=[16])")
    runs = [train("stratgym/StatefulAgent-v0", "ppo", seed, env_kwargs=env_kwargs, n_timesteps=256,
                  hyperparams=hyperparams, progress_bar=False) for seed in (5, 5, 6)]
    observations = np.random.default_rng(0).uniform(0, 1, (20,) + runs[0].model.observation_space.shape).astype(np.float32)
    np.testing.assert_array_equal(_actions(runs[0], observations), _actions(runs[1], observations))
    np.testing.assert_array_equal(runs[0].curve.mean_returns, runs[1].curve.mean_returns)
    assert not np.array_equal(_actions(runs[0], observations), _actions(runs[2], observations))


def test_save_and_load_round_trip(tmp_path):
    result = train("stratgym/StatefulCommitment-v0", "ppo", 1, env_kwargs={"game": {"name": "classroom", "horizon": 2}},
                   n_timesteps=64, hyperparams=dict(PPO_SMALL, n_steps=32, batch_size=32), progress_bar=False)
    result.save(tmp_path / "run")
    model, meta = load_model(tmp_path / "run")
    assert meta["algo"] == "ppo" and meta["env_kwargs"] == {"game": {"name": "classroom", "horizon": 2}}
    observation = make_env("stratgym/StatefulCommitment-v0", meta["env_kwargs"]).reset(seed=0)[0]
    np.testing.assert_array_equal(model.predict(observation, deterministic=True)[0],
                                  result.model.predict(observation, deterministic=True)[0])
    with pytest.raises(ValueError, match="not a saved run"):
        load_model(tmp_path)
    result.env_kwargs = {"game": classroom()}
    with pytest.raises(ValueError, match="JSON"):
        result.save(tmp_path / "other")


def test_training_reward_and_evaluation_reward_can_differ(tmp_path):
    """Train on PersuasionScheme's penalized reward, evaluate (curve, meta, CLI evaluate) on the expected one."""
    scheme_game = {"game": {"name": "random", "seed": 3, "n_actions": 2, "prior": "finite"}}
    penalized = scheme_game | {"reward": "penalized", "penalty_weight": 50.0}
    result = train("stratgym/PersuasionScheme-v0", "ppo", 0, env_kwargs=penalized, eval_env_kwargs=scheme_game,
                   n_timesteps=64, eval_freq=32, hyperparams=dict(PPO_SMALL, n_steps=32, batch_size=32),
                   progress_bar=False)
    true_value = evaluate_policy(result.model, "stratgym/PersuasionScheme-v0", 5, 0, env_kwargs=scheme_game).mean
    trained_value = evaluate_policy(result.model, "stratgym/PersuasionScheme-v0", 5, 0, env_kwargs=penalized).mean
    assert true_value != trained_value  # the two rewards differ here, so the check below can tell them apart
    assert result.curve.mean_returns[-1] == pytest.approx(true_value)
    result.save(tmp_path / "run")
    assert load_model(tmp_path / "run")[1]["eval_env_kwargs"] == scheme_game
    with pytest.raises(ValueError, match="eval_env_kwargs must give an env with the training env's"):
        train("stratgym/PersuasionScheme-v0", "ppo", 0, env_kwargs=penalized, eval_env_kwargs={},
              n_timesteps=32, hyperparams=dict(PPO_SMALL, n_steps=32, batch_size=32), progress_bar=False)
    with pytest.raises(ValueError, match="eval_env_kwargs can only be given with an env id"):
        train(MatchingEnv, "ppo", eval_env_kwargs={"x": 1}, hyperparams={}, n_timesteps=10)


def test_algorithm_must_fit_the_action_space():
    with pytest.raises(ValueError, match="algorithms that fit it: \\['a2c', 'ppo', 'sac', 'td3'\\]"):
        check_algorithm("dqn", spaces.Box(-1, 1, (2,)))
    with pytest.raises(ValueError, match="algorithms that fit it: \\['a2c', 'dqn', 'ppo'\\]"):
        check_algorithm("sac", spaces.Discrete(3))
    with pytest.raises(ValueError, match="algo must be one of"):
        check_algorithm("reinforce", spaces.Discrete(3))
    with pytest.raises(ValueError, match="'sac' needs a Box"):
        train(MatchingEnv, "sac", hyperparams={}, n_timesteps=10, progress_bar=False)


def test_bad_training_arguments_are_rejected():
    with pytest.raises(ValueError, match="hyperparams are required"):
        train(MatchingEnv, "ppo", n_timesteps=10)
    with pytest.raises(ValueError, match="n_timesteps"):
        train(MatchingEnv, "ppo", hyperparams={"policy": "MlpPolicy"}, progress_bar=False)
    with pytest.raises(ValueError, match="not registered"):
        train("stratgym/Nope-v0", "ppo", hyperparams={}, n_timesteps=10)
    with pytest.raises(ValueError, match="no hyperparameters for env"):
        train("CartPole-v1", "ppo", n_timesteps=10)
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ValueError, match="tensorboard"):
            train(MatchingEnv, "ppo", hyperparams={}, n_timesteps=10, tensorboard_log="tb")


def test_evaluation_summary_and_seeding():
    summary = Evaluation.from_returns([1.0, 2.0, 4.0])
    assert summary.mean == pytest.approx(7 / 3)
    assert summary.stderr == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1) / np.sqrt(3))
    assert Evaluation.from_returns([3.0]).stderr == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        Evaluation.from_returns([])
    policy = lambda obs: 0  # noqa: E731  (always names target 0: right a quarter of the time)
    first = evaluate_policy(policy, MatchingEnv, n_episodes=30, seed=4)
    again = evaluate_policy(policy, MatchingEnv, n_episodes=30, seed=4)
    np.testing.assert_array_equal(first.returns, again.returns)
    assert 1.0 < first.mean < 3.0
    discounted = evaluate_policy(lambda obs: obs, MatchingEnv(), n_episodes=2, discount=0.5)
    np.testing.assert_allclose(discounted.returns, sum(0.5 ** k for k in range(8)))
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate_policy(policy, MatchingEnv, n_episodes=0)
    with pytest.raises(ValueError, match="discount"):
        evaluate_policy(policy, MatchingEnv, discount=0.0)


def test_packaged_hyperparameters_cover_every_env_and_fit_its_actions():
    files = sorted(HYPERPARAMS_DIR.glob("*.yml"))
    assert {f.stem for f in files} <= set(ALGORITHMS)
    for path in files:
        table = yaml.safe_load(path.read_text())
        for env_id, entry in table.items():
            assert env_id in gym.registry, f"{path.name}: unknown env {env_id}"
            action_space = make_env(env_id).action_space
            check_algorithm(path.stem, action_space)
            run, kwargs = algorithm_arguments(entry, action_space)
            assert run["n_timesteps"] >= 1 and "n_timesteps" not in kwargs
    ppo = yaml.safe_load(hyperparams_file("ppo").read_text())
    assert set(STRATGYM_IDS) <= set(ppo), "every env needs a PPO entry (the default learner)"


def test_zoo_format_conversions():
    space = spaces.Box(-1, 1, (3, 2))
    run, kwargs = algorithm_arguments({"n_timesteps": 1000, "n_envs": 2, "learning_rate": "lin_0.01",
                                       "policy_kwargs": "dict(net_arch=[8], activation_fn=nn.Tanh)",
                                       "train_freq": [4, "step"], "noise_type": "normal", "noise_std": 0.3,
                                       "gamma": 0.9}, space)
    assert run == {"n_timesteps": 1000, "policy": "MlpPolicy", "n_envs": 2}
    assert isinstance(kwargs["learning_rate"], LinearSchedule)
    assert kwargs["learning_rate"](1.0) == pytest.approx(0.01) and kwargs["learning_rate"](0.0) == 0.0
    import torch.nn as nn
    assert kwargs["policy_kwargs"] == {"net_arch": [8], "activation_fn": nn.Tanh}
    assert kwargs["train_freq"] == (4, "step") and kwargs["gamma"] == 0.9
    assert isinstance(kwargs["action_noise"], NormalActionNoise) and kwargs["action_noise"]().shape == (3, 2)
    for bad, match in [({"normalize": True}, "not supported"), ({"learning_rate": "exp_0.1"}, "learning_rate"),
                       ({"policy_kwargs": "dict(net_arch=oops)"}, "policy_kwargs"), ({"n_envs": 0}, "n_envs"),
                       ({"noise_type": "pink", "noise_std": 0.1}, "noise_type")]:
        with pytest.raises(ValueError, match=match):
            algorithm_arguments(bad, space)
    with pytest.raises(ValueError, match="no packaged hyperparameters"):
        hyperparams_file("ddpg")
    with pytest.raises(ValueError, match="no hyperparameters for env"):
        load_hyperparams("ppo", "stratgym/Nope-v0")


def test_env_kwargs_scheme():
    assert build_game("stateful", "classroom") == classroom()
    assert build_game("stateful", {"name": "classroom", "horizon": 3}) == classroom(horizon=3)
    fields = {"conversion_matrix": [[1, 0.4, 0], [0, 0.4, 1]], "retention": [0, 1, 0], "effort_value": [0, 1, 0]}
    assert build_game("stateful", fields) == StatefulGame(**fields)
    first = build_game("stateful", {"name": "random", "seed": 3, "horizon": 2})
    assert first == build_game("stateful", {"name": "random", "seed": 3, "horizon": 2}) and first.horizon == 2
    assert first != build_game("stateful", {"name": "random", "seed": 4, "horizon": 2})
    game = classroom()
    assert resolve_env_kwargs("stratgym/StatefulPrincipal-v0", {"game": game, "agent": "myopic"}) == \
        {"game": game, "agent": "myopic"}
    # The previous name of the argument is an alias of "agent" in this JSON scheme.
    assert resolve_env_kwargs("stratgym/StatefulPrincipal-v0", {"game": game, "response_model": "myopic"}) == \
        {"game": game, "agent": "myopic"}
    prior_game = build_game("persuasion", {"features": [1.0, -0.5], "effects": [[0, 0], [0, 1]], "costs": [0, 0.3],
                                           "prior": {"mean": [0.0, 1.0], "covariance": 0.4}})
    assert prior_game.n_actions == 2 and prior_game.prior.covariance[0, 0] == pytest.approx(0.4)
    assert env_family("stratgym/PersuasionAgent-v0") == "persuasion"
    assert parse_env_kwargs('{"game": "classroom"}') == {"game": "classroom"} and parse_env_kwargs(None) == {}
    for text, match in [("[1]", "JSON object"), ("{bad", "JSON object")]:
        with pytest.raises(ValueError, match=match):
            parse_env_kwargs(text)
    for spec, match in [("school", "game name must be one of"), (3, "name or a JSON object"),
                        ({"name": "classroom", "rounds": 2}, "bad arguments for game 'classroom'"),
                        ({"name": "classroom", "seed": 1}, "takes no seed"),
                        ({"name": "random", "seed": -1}, "seed")]:
        with pytest.raises(ValueError, match=match):
            build_game("stateful", spec)
    with pytest.raises(ValueError, match="prior must be"):
        build_game("persuasion", {"features": [1.0], "effects": [[0], [1]], "costs": [0, 1], "prior": {"x": 1}})
    with pytest.raises(ValueError, match="no stratgym game family"):
        env_family("CartPole-v1")


def test_persuasion_agent_accepts_the_optimal_scheme():
    from stratgym.baselines.signaling import optimal_scheme

    env = make_env("stratgym/PersuasionAgent-v0", {"scheme": "optimal", "game": {"name": "random", "seed": 2}}).unwrapped
    np.testing.assert_allclose(env.scheme, optimal_scheme(env.game).scheme)
    assert env.evaluation.obedient


#: Runs rl_zoo3's own entry point on each (algo, env) pair in one process (its imports cost more than the tiny
#: runs), off-policy learners with learning_starts lowered so that their action noise and updates are exercised.
ZOO_DRIVER = """
import json, sys, traceback
from rl_zoo3.train import train
folder, pairs = sys.argv[1], json.loads(sys.argv[2])
for algo, env_id, conf in pairs:
    sys.argv = ["rl_zoo3.train", "--gym-packages", "stratgym", "--env", env_id, "--algo", algo, "-conf", conf,
                "-n", "64", "--eval-freq", "-1", "--seed", "0", "--device", "cpu", "--num-threads", "1", "-f", folder]
    if algo in ("sac", "td3", "dqn"):
        sys.argv += ["-params", "learning_starts:16"]
    try:
        train()
        print("ZOO-OK", algo, env_id, flush=True)
    except BaseException:
        print("ZOO-FAIL", algo, env_id, traceback.format_exc().strip().splitlines()[-1], flush=True)
"""
ZOO_PAIRS = [(path.stem, env_id) for path in sorted(HYPERPARAMS_DIR.glob("*.yml")) for env_id in yaml.safe_load(path.read_text())]


def _zoo_trains(tmp_path, pairs):
    arguments = json.dumps([[algo, env_id, str(hyperparams_file(algo))] for algo, env_id in pairs])
    done = subprocess.run([sys.executable, "-c", ZOO_DRIVER, str(tmp_path), arguments], capture_output=True, text=True,
                          timeout=900)
    outcomes = [line for line in done.stdout.splitlines() if line.startswith("ZOO-")]
    assert [line for line in outcomes if line.startswith("ZOO-FAIL")] == [], done.stderr[-2000:]
    assert len(outcomes) == len(pairs), done.stderr[-2000:]
    assert len(list(Path(tmp_path).rglob("*.zip"))) == len(pairs), "rl_zoo3 saved no model"


@pytest.mark.skipif(importlib.util.find_spec("rl_zoo3") is None, reason="rl_zoo3 is not installed")
def test_rl_zoo3_trains_every_packaged_entry(tmp_path):
    # About 15 s for the 22 entries on 2 cores. TD3 on the (T, n) and (R, A) actions used to crash in the zoo
    # ("could not be broadcast": its noise_type noise is flat); ShapedActionNoise is shaped like the action.
    _zoo_trains(tmp_path, ZOO_PAIRS)


def test_shaped_action_noise_callback_sets_noise_shaped_like_the_action():
    entry = load_hyperparams("td3", "stratgym/StatefulCommitment-v0")
    space = make_env("stratgym/StatefulCommitment-v0").action_space
    assert len(space.shape) == 2 and "noise_type" not in entry  # the zoo could not add its flat noise to this action
    assert algorithm_arguments(entry, space)[1]["action_noise"]().shape == space.shape
    callback = ShapedActionNoise("normal", 0.2)
    model = TD3("MlpPolicy", make_env("stratgym/StatefulCommitment-v0"), learning_starts=4, seed=0)
    callback.init_callback(model)
    callback.on_training_start({}, {})
    assert isinstance(model.action_noise, NormalActionNoise) and model.action_noise().shape == space.shape
    for bad in ([{"stable_baselines3.common.callbacks.CheckpointCallback": {}}], "x",
                [{"stratgym.agents.hyperparams.ShapedActionNoise": {"noise_std": 0.1, "theta": 1}}]):
        with pytest.raises(ValueError, match="only callback"):
            algorithm_arguments({"callback": bad}, space)
    with pytest.raises(ValueError, match="noise_std"):
        ShapedActionNoise("normal", -1.0)


def test_hyperparameter_files_are_checked_with_the_key_named(tmp_path):
    path = tmp_path / "h.yml"
    for text, match in [("stratgym/StatefulCommitment-v0:\n  n_timesteps: [64\n", "not valid YAML.*line 3"),
                        ("stratgym/StatefulCommitment-v0:\n  n_step: 8\n", "unknown key n_step for PPO.*n_steps"),
                        ("stratgym/StatefulCommitment-v0:\n  seed: 3\n", "seed cannot be set"),
                        ("stratgym/StatefulCommitment-v0:\n  n_timesteps: !!float 1e3\n  n_steps: 8\n", None)]:
        path.write_text(text)
        if match is None:
            assert algorithm_arguments(load_hyperparams("ppo", "stratgym/StatefulCommitment-v0", path),
                                       spaces.Box(-1, 1, (2,)))[0]["n_timesteps"] == 1000
            continue
        with pytest.raises(ValueError, match=match):
            load_hyperparams("ppo", "stratgym/StatefulCommitment-v0", path)
    with pytest.raises(ValueError, match="unknown key gama"):  # a dict given directly is checked too
        train(MatchingEnv, "ppo", hyperparams={"gama": 0.9}, n_timesteps=8, progress_bar=False)


def test_every_env_gets_its_own_copy_of_stateful_kwargs():
    """A learning receiver passed in env_kwargs must not be shared by the parallel training envs and the evaluation env."""
    receiver = QuantalReceiver(2.0)
    kwargs = {"receiver": receiver}
    first, second = (make_env("stratgym/PersuasionRecommend-v0", kwargs) for _ in range(2))
    assert len({id(receiver), id(first.unwrapped.receiver), id(second.unwrapped.receiver)}) == 3
    first.reset(seed=0)
    second.reset(seed=0)
    untouched = second.unwrapped.receiver.values.copy()
    for _ in range(30):
        first.step(first.action_space.sample())
    assert not np.array_equal(first.unwrapped.receiver.values, untouched), "the episode should teach the receiver"
    np.testing.assert_array_equal(second.unwrapped.receiver.values, untouched)


def test_env_arguments_are_checked_against_the_constructor():
    with pytest.raises(ValueError, match="StatefulCommitment-v0 takes no arguments bar, foo; it accepts game"):
        make_env("stratgym/StatefulCommitment-v0", {"foo": 1, "bar": 2})
    assert make_env("stratgym/StatefulCommitment-v0", {"max_episode_steps": 1}).spec.max_episode_steps == 1


def test_recorded_budget_is_the_steps_trained():
    result = train("stratgym/StatefulCommitment-v0", "ppo", 0, env_kwargs={"game": {"name": "classroom", "horizon": 2}},
                   n_timesteps=40, hyperparams=dict(PPO_SMALL, n_steps=32, batch_size=32), progress_bar=False)
    assert (result.n_timesteps, result.requested_timesteps) == (64, 40) == (result.model.num_timesteps, 40)


CLASSROOM_2 = {"game": {"name": "classroom", "horizon": 2}}


@pytest.mark.parametrize("algo, env, hyperparams, budget", [
    ("ppo", MatchingEnv, dict(PPO_SMALL, n_steps=32, batch_size=32, n_envs=2), 100),
    ("a2c", MatchingEnv, {"n_steps": 7}, 50),
    ("dqn", MatchingEnv, {"learning_starts": 8, "train_freq": 4}, 30),
    ("sac", MatchingBoxEnv, {"learning_starts": 8, "train_freq": [3, "step"], "n_envs": 2}, 25),
])
def test_steps_to_train_is_what_learning_takes(algo, env, hyperparams, budget):
    result = train(env, algo, 0, n_timesteps=budget, hyperparams=hyperparams, progress_bar=False)
    assert steps_to_train(result.model, budget) == result.n_timesteps >= budget


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _step_counts(text: str) -> list[tuple[int, int]]:
    return [(int(done), int(total)) for done, total in re.findall(r"(\d+)/(\d+)", text.replace(",", ""))]


def test_progress_is_a_few_plain_lines_off_a_terminal_and_never_passes_its_total():
    # PPO trains whole rollouts of 2 envs x 32 steps: a budget of 100 trains 128 steps, and the total says 128.
    hyperparams = dict(PPO_SMALL, n_steps=32, batch_size=32, n_envs=2)
    log = io.StringIO()
    result = train(MatchingEnv, "ppo", 0, n_timesteps=100, hyperparams=hyperparams,
                   progress_bar=StepProgress("run", log, lines=4))
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 1 <= len(lines) <= 4 and all(line.startswith("run: ") for line in lines)
    counts = _step_counts(log.getvalue())
    assert all(done <= total == result.n_timesteps == 128 for done, total in counts)
    assert counts[-1] == (128, 128)
    long = io.StringIO()
    train(MatchingEnv, "ppo", 0, n_timesteps=2000, hyperparams=hyperparams, progress_bar=StepProgress("run", long))
    assert len(long.getvalue().splitlines()) <= 10, "at most `lines` lines, however long the run"
    terminal = _Terminal()
    bar = StepProgress("run", terminal)
    train(MatchingEnv, "ppo", 0, n_timesteps=100, hyperparams=hyperparams, progress_bar=bar)
    assert (bar.done, bar.total) == (128, 128)
    assert _step_counts(terminal.getvalue()) and all(done <= total == 128 for done, total in
                                                     _step_counts(terminal.getvalue()))


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="tensorboard is not installed")
def test_tensorboard_logs_the_optimum_and_baselines_beside_sb3(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = train("stratgym/StatefulCommitment-v0", "ppo", 0, env_kwargs=CLASSROOM_2, n_timesteps=128, eval_freq=64,
                   hyperparams=dict(PPO_SMALL, n_steps=64, batch_size=32), progress_bar=False,
                   tensorboard_log=tmp_path, tb_log_name="run")
    (event_file,) = (tmp_path / "run_1").glob("events.out.tfevents.*")
    events = EventAccumulator(str(event_file))
    events.Reload()
    reference = reference_values("stratgym/StatefulCommitment-v0", CLASSROOM_2, 5)
    scalars = {tag: [(event.step, event.value) for event in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    assert "time/fps" in scalars and "train/value_loss" in scalars, "SB3's own scalars are there too"
    steps = result.curve.timesteps.tolist()
    assert [step for step, _ in scalars["stratgym/optimum"]] == steps
    assert all(value == pytest.approx(reference.optimum) for _, value in scalars["stratgym/optimum"])
    for name, expected in reference.baselines.items():
        assert [value for _, value in scalars[f"stratgym/baseline/{name}"]] == pytest.approx([expected] * len(steps))
    np.testing.assert_allclose([value for _, value in scalars["stratgym/learned"]], result.curve.mean_returns, rtol=1e-6)
    np.testing.assert_allclose([value for _, value in scalars["stratgym/learned_over_optimum"]],
                               result.curve.mean_returns / reference.optimum, rtol=1e-6)


def test_saved_meta_records_config_versions_and_command_and_nothing_is_replaced(tmp_path):
    result = train("stratgym/StatefulCommitment-v0", "ppo", 1, env_kwargs=CLASSROOM_2, n_timesteps=64,
                   hyperparams=dict(PPO_SMALL, n_steps=32, batch_size=32), progress_bar=False)
    result.save(tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["config"] == result.config and meta["config"]["n_timesteps"] == 64
    assert meta["config"]["hyperparams"] == dict(PPO_SMALL, n_steps=32, batch_size=32)
    assert meta["config_hash"] == run_folder_name("a", "ppo", 1, result.config).rsplit("__", 1)[1]
    assert set(meta["versions"]) == {"stratgym", "stable-baselines3", "torch", "gymnasium", "numpy", "scipy"}
    assert meta["versions"]["numpy"] == np.__version__ and meta["command"] == sys.argv
    before = (tmp_path / "run" / "model.zip").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        result.save(tmp_path / "run")
    assert (tmp_path / "run" / "model.zip").read_bytes() == before
    result.save(tmp_path / "run", overwrite=True)
    other = dict(result.config, n_timesteps=300)
    assert run_folder_name("a", "ppo", 1, other) != run_folder_name("a", "ppo", 1, result.config)
    assert "n_timesteps 64 -> 300" in config_differences(result.config, other)
