"""Longer learning checks against the exact optima (``make test-all``; 3.5 minutes on the 2-core machine of
2026-12-02, 8 on a slower one).

Where a learner reaches 95% of the optimum, that is asserted. Where it does not on every seed (the scheme
env), the test asserts what the learner does reach, states the measured fractions in a comment, and reports
an expected failure while it stays below 95% (it passes if a change lifts it to the target).
"""

import pytest

import stratgym  # noqa: F401
from stratgym.agents.benchmark import RANDOM_STATEFUL, SCHEME_TRAINING
from stratgym.agents.evaluate import EVAL_SEED, evaluate_policy, score_policy
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
    # Scored in the optimum's currency (score_policy): the exact expectation in every env here, so the optimum
    # is an upper bound for every policy, the persuasion agent's included.
    reference = reference_values(env_id, env_kwargs)
    assert reference.optimum > 0 and reference.score_basis == "exact"
    result = train(env_id, "ppo", seed=0, env_kwargs=env_kwargs, n_timesteps=budget, progress_bar=False,
                   eval_discount=reference.discount)
    learned = score_policy(result.model, env_id, seed=EVAL_SEED, env_kwargs=env_kwargs, discount=reference.discount)
    assert learned.basis == "exact"
    assert learned.mean >= 0.95 * reference.optimum, (learned.mean, reference.optimum)
    assert learned.mean <= reference.optimum + 1e-6 * max(1.0, abs(reference.optimum)), "nothing beats the optimum"


@pytest.mark.parametrize("algo", ["ppo", "td3"])
def test_scheme_learners_on_the_default_persuasion_instance(algo):
    # Trained on the penalized reward (the benchmark's SCHEME_TRAINING), scored on the expected one, with the
    # packaged budgets. Measured (BENCHMARKS.md, ppo.yml, td3.yml): PPO 98.4 / 98.5 / 98.8% of the LP optimum on
    # seeds 0/1/2, TD3 95.1 / 96.4 / 95.3 / 96.0 / 95.3% on seeds 0-4 (on the expected reward both stalled at
    # 58-68%). Each must get 85% on seed 0 and never beat the exact optimum; below 95% (TD3 has little margin) it
    # is reported as an expected failure.
    env_id = "stratgym/PersuasionScheme-v0"
    reference = reference_values(env_id, {})
    result = train(env_id, algo, seed=0, env_kwargs=SCHEME_TRAINING, eval_env_kwargs={}, progress_bar=False)
    learned = evaluate_policy(result.model, env_id, 1, EVAL_SEED).mean
    assert learned <= reference.optimum + 1e-9, "nothing beats the exact optimum of the expected reward"
    assert learned >= 0.85 * reference.optimum, (learned, reference.optimum)
    if learned < 0.95 * reference.optimum:
        pytest.xfail(f"{algo} reached {learned / reference.optimum:.0%} of the LP optimum (target 95%)")


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_recommend_learners_approach_the_trust_bound_against_the_learning_receiver(algo):
    # The observation carries each recommendation's cumulative gain to the receiver, which decides its trust.
    # The reference is the trust bound (57.8), an exact upper bound on every policy against this receiver (not known
    # to be reached). PPO's outcome is bimodal, about 48 or about 30 (measured 2026-12-04, 100k steps, 10 evaluation
    # episodes), and which mode a run reaches depends on the env's random draws: reseeding the env moved runs between
    # the modes on the native vector env and on SB3's DummyVecEnv alike (BENCHMARKS.md). Each learner must beat
    # every fixed scheme played against this receiver; below 80% of the bound it is reported as an expected failure.
    env_id = "stratgym/PersuasionRecommend-v0"
    episodes = 10
    reference = reference_values(env_id, {}, n_episodes=episodes)
    assert reference.upper_bound and reference.optimum_name.startswith("trust bound")
    result = train(env_id, algo, seed=0, progress_bar=False)
    learned = evaluate_policy(result.model, env_id, episodes, EVAL_SEED).mean
    assert max(reference.baselines.values()) < learned <= reference.optimum, (learned, reference)
    if learned < 0.8 * reference.optimum:
        pytest.xfail(f"{algo} reached {learned / reference.optimum:.0%} of the trust bound (the low mode, see above)")
