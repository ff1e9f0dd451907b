"""Longer learning checks against the exact optima (``make test-all``; about four minutes on 2 cores).

Where a learner reaches 95% of the optimum, that is asserted. Where none does (the persuasion principal
envs), the test asserts what the learner does reach (clearly beating the baselines), states the measured
fraction in a comment, and reports an expected failure while it stays below 95% (it passes if a change
lifts it to the target).
"""

import pytest

import stratgym  # noqa: F401
from stratgym.agents.benchmark import RANDOM_STATEFUL
from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy
from stratgym.agents.references import reference_values
from stratgym.agents.train import train

pytestmark = pytest.mark.slow

CASES = [
    ("stratgym/StatefulCommitment-v0", {"game": "classroom"}, 20_000),
    ("stratgym/StatefulPrincipal-v0", {"game": "classroom", "response_model": "forecasting"}, 20_000),
    ("stratgym/StatefulAgent-v0", {"game": "classroom"}, 20_000),
    ("stratgym/StatefulCommitment-v0", {"game": RANDOM_STATEFUL}, 20_000),
    ("stratgym/StatefulPrincipal-v0", {"game": RANDOM_STATEFUL, "response_model": "forecasting"}, 20_000),
    # The default persuasion instance (synthetic credit), agent side: full revelation and the optimal scheme.
    ("stratgym/PersuasionAgent-v0", {}, 10_000),
    ("stratgym/PersuasionAgent-v0", {"scheme": "optimal"}, 10_000),
]


@pytest.mark.parametrize("env_id, env_kwargs, budget", CASES, ids=lambda v: str(v) if not isinstance(v, dict) else "")
def test_ppo_reaches_95_percent_of_the_optimum(env_id, env_kwargs, budget):
    # Rewards of the persuasion agent env are random: 200 paired episodes (the reference plays the exact
    # best response on the same ones). Every other reference here is an upper bound episode by episode.
    episodes = 200 if "Persuasion" in env_id else 20
    reference = reference_values(env_id, env_kwargs, n_episodes=episodes)
    assert reference.optimum > 0
    result = train(env_id, "ppo", seed=0, env_kwargs=env_kwargs, n_timesteps=budget, progress_bar=False,
                   eval_discount=reference.discount)
    learned = evaluate_policy(result.model, env_id, episodes, EVAL_SEED, env_kwargs=env_kwargs,
                              discount=reference.discount)
    assert learned.mean >= 0.95 * reference.optimum, (learned.mean, reference.optimum)
    if "Persuasion" not in env_id:
        assert learned.mean <= reference.optimum + 1e-6 * max(1.0, abs(reference.optimum)), "nothing beats the optimum"


@pytest.mark.parametrize("algo, budget", [("ppo", 30_000), ("td3", 60_000)])
def test_scheme_learners_on_the_default_persuasion_instance(algo, budget):
    # Measured on seed 0 (the packaged hyperparameters): PPO 64% of the signaling LP optimum (0.319 of
    # 0.497) at 30k steps, and 58-68% for every other PPO configuration tried up to 100k steps; TD3 91%
    # (0.451) at 60k steps, but 57% on seed 1. The LP optimum persuades the big no-approval region at the
    # exact BIC boundary, where the expected reward drops off a cliff; PPO settles in a local optimum that
    # pools only small regions. Each must clearly beat full revelation (0.161) and no information (0).
    env_id = "stratgym/PersuasionScheme-v0"
    reference = reference_values(env_id, {})
    result = train(env_id, algo, seed=0, n_timesteps=budget, progress_bar=False)
    learned = evaluate_policy(result.model, env_id, 1, EVAL_SEED).mean
    assert learned <= reference.optimum + 1e-9, "nothing beats the exact optimum of the expected reward"
    assert learned >= 1.5 * max(reference.baselines.values()), (learned, reference.baselines)
    if learned < 0.95 * reference.optimum:
        pytest.xfail(f"{algo} reached {learned / reference.optimum:.0%} of the LP optimum (target 95%)")


def test_ppo_recommend_beats_every_fixed_scheme_against_the_learning_receiver():
    # Measured (seed 0, 50k steps, 10 episodes): 25.7 per 100 rounds, 52% of the commitment value 49.7
    # (LP value x rounds); the best fixed scheme played against this receiver gets 17.5. The commitment
    # value is no upper bound here (a principal that reads the receiver's running means gets ~55), but
    # the env shows the learner only the region and 0/1 follow flags, so 95% of it is reported as an
    # expected failure.
    env_id = "stratgym/PersuasionRecommend-v0"
    episodes = 10
    reference = reference_values(env_id, {}, n_episodes=episodes)
    result = train(env_id, "ppo", seed=0, n_timesteps=50_000, progress_bar=False)
    learned = evaluate_policy(result.model, env_id, episodes, EVAL_SEED).mean
    assert learned > max(reference.baselines.values()), (learned, reference.baselines)
    if learned < 0.95 * reference.optimum:
        pytest.xfail(f"PPO reached {learned / reference.optimum:.0%} of the commitment value (target 95%)")
