"""Scoring learners in the optimum's currency: exact expectations, the normalized score, the robust optimum and the
error a learner above an exact optimum raises (issue 13, items 4 and 9)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

from stratgym.agents.benchmark import BenchmarkEnv, Suite, mean_curves, scoring_errors, summarize, table_lines, write_outputs
from stratgym.agents.evaluate import evaluate_policy, persuasion_agent_value, score_basis, score_policy
from stratgym.agents.instances import make_env
from stratgym.agents.references import Reference, above_optimum, normalized_score, reference_values
from stratgym.baselines.signaling import optimal_scheme, solve_signaling_lp
from stratgym.baselines.stateful import solve, uniform_weights
from stratgym.envs.spaces import simplex_to_box
from stratgym.games.persuasion import evaluate_scheme

AGENT = "stratgym/PersuasionAgent-v0"
COMMITMENT = "stratgym/StatefulCommitment-v0"
NEGATIVE_OPTIMUM = {"name": "random", "seed": 4, "horizon": 4, "n_features": 3, "n_efforts": 4}


def _hand_policies(env):
    """Deterministic maps recommendation -> action: obey, always act 0, always the last action, the exact best
    response, and one that shifts every recommendation by one."""
    actions = env.unwrapped.regions.n_actions
    responses = env.unwrapped.evaluation.responses
    recommended = lambda obs: int(np.argmax(obs[:actions]))  # noqa: E731
    return {"obey": recommended, "nothing": lambda obs: 0, "last": lambda obs: actions - 1,
            "best response": lambda obs: int(responses[recommended(obs)]),
            "shifted": lambda obs: (recommended(obs) + 1) % actions}


@pytest.mark.parametrize("scheme", ["optimal", "full-revelation"])
def test_persuasion_agent_exact_value_is_the_monte_carlo_mean(scheme):
    """The exact expectation sum_s pi_s sum_r q_s(r) u_A(s, policy(r)) against 4,000 played episodes (a 4.5-sigma
    band: no false alarm across the policies in practice, and a wrong weighting is off by far more)."""
    env = make_env(AGENT, {"scheme": scheme})
    for name, policy in _hand_policies(env).items():
        exact = score_policy(policy, env)
        sampled = evaluate_policy(policy, env, n_episodes=4000, seed=123)
        assert exact.basis == "exact" and exact.stderr == 0.0
        assert abs(exact.mean - sampled.mean) <= 4.5 * sampled.stderr + 1e-12, name


def test_persuasion_agent_best_response_scores_exactly_the_optimum():
    env = make_env(AGENT, {"scheme": "optimal"})
    policy = _hand_policies(env)["best response"]
    reference = reference_values(AGENT, {"scheme": "optimal"}, n_episodes=50)
    value = persuasion_agent_value(policy, env.unwrapped)
    # Independent: the scheme's own exact evaluation.
    assert value == pytest.approx(evaluate_scheme(env.unwrapped.regions, env.unwrapped.scheme).agent_value, abs=1e-12)
    assert value == pytest.approx(reference.optimum, abs=1e-12)
    # Obedience is optimal against the BIC scheme, so its exact value is the optimum too: the agent is indifferent
    # wherever the two differ, which is what made sampled scores beat a sampled optimum.
    assert reference.baselines["obey the recommendation"] == pytest.approx(reference.optimum, abs=1e-9)


def _suite(label, env_id, env_kwargs, seeds=(0, 1, 2)):
    return Suite("test", (BenchmarkEnv(label, env_id, env_kwargs, ("ppo",)),), seeds=seeds)


def _record(label, seed, mean, basis, stderr=0.0):
    return {"mean": mean, "stderr": stderr, "score_basis": basis, "wall_time": 1.0, "n_timesteps": 10,
            "config": {"n_timesteps": 10}, "curve": {"timesteps": [0, 10], "mean_returns": [0.0, mean]},
            "name": f"{label}__ppo__seed{seed}"}


def _summary(suite, means, reference, basis="exact", stderr=0.0):
    label = suite.envs[0].label
    records = {f"{label}__ppo__seed{seed}": _record(label, seed, mean, basis, stderr)
               for seed, mean in zip(suite.seeds, means)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = summarize(suite, records, {label: reference})
    return rows[0], records, caught


def test_the_optimal_policy_scores_learned_over_optimum_exactly_one():
    env = make_env(AGENT, {"scheme": "optimal"})
    score = score_policy(_hand_policies(env)["best response"], env, n_episodes=200)
    reference = reference_values(AGENT, {"scheme": "optimal"}, n_episodes=200)
    row, _, caught = _summary(_suite("agent", AGENT, {"scheme": "optimal"}), [score.mean] * 3, reference, score.basis)
    assert row.ratio == pytest.approx(1.0, abs=1e-12) and row.normalized == pytest.approx(1.0, abs=1e-12)  # round-off
    assert not row.above_optimum and not caught and row.score_basis == "exact"


def test_normalized_score_is_zero_for_the_uniform_policy_and_one_for_the_optimum():
    kwargs = {"game": {"name": "random", "seed": 132, "horizon": 4, "n_features": 3, "n_efforts": 4}}
    reference = reference_values(COMMITMENT, kwargs)
    env = make_env(COMMITMENT, kwargs)
    game = env.unwrapped.game
    assert reference.uniform == pytest.approx(uniform_weights(game).principal_value, abs=1e-12)
    zeros = np.zeros(env.action_space.shape, dtype=np.float32)
    optimal = simplex_to_box(solve(game).theta)  # float64: the exact optimum (ties aside, see issue 13 item 1)
    assert normalized_score(score_policy(lambda obs: zeros, env).mean, reference.optimum, reference.uniform) == 0.0
    assert normalized_score(score_policy(lambda obs: optimal, env).mean, reference.optimum,
                            reference.uniform) == pytest.approx(1.0, abs=1e-9)


def test_scheme_env_is_scored_by_its_exact_expectation_whatever_its_reward():
    """The scheme env trained on the penalized or sampled reward is still scored by the expected reward."""
    regions = make_env("stratgym/PersuasionScheme-v0").unwrapped.regions
    scheme = optimal_scheme(regions)
    action = simplex_to_box(scheme.scheme)
    scores = {reward: score_policy(lambda obs: action, make_env("stratgym/PersuasionScheme-v0", {"reward": reward}))
              for reward in ("expected", "sampled", "penalized")}
    assert scores["expected"].mean == scores["sampled"].mean == scores["penalized"].mean
    assert scores["expected"].mean == pytest.approx(scheme.principal_value, rel=1e-6)  # the float32 action


def test_a_negative_optimum_gets_a_defined_normalized_score():
    reference = reference_values(COMMITMENT, {"game": NEGATIVE_OPTIMUM})
    assert reference.optimum < 0 and reference.uniform < reference.optimum
    row, _, _ = _summary(_suite("negative", COMMITMENT, {"game": NEGATIVE_OPTIMUM}),
                         [reference.uniform, reference.baselines["best constant rule"], reference.optimum], reference)
    assert row.ratio is None  # a ratio to a negative optimum means nothing ...
    expected = (row.learned_mean - reference.uniform) / (reference.optimum - reference.uniform)
    assert row.normalized == pytest.approx(expected) and 0.0 < row.normalized <= 1.0  # ... the normalized score does
    assert not row.note


def test_normalized_score_is_undefined_when_the_optimum_is_the_uniform_value():
    reference = Reference("x", "principal", optimum=4.0, uniform=4.0, score_basis="exact")
    assert normalized_score(4.0, 4.0, 4.0) is None and normalized_score(4.0, 4.0, None) is None
    row, _, _ = _summary(_suite("flat", COMMITMENT, {}), [4.0, 4.0, 4.0], reference)
    assert row.normalized is None and "undefined" in row.note
    assert table_lines([row])[1][0][3] == "n/a"


def test_a_learner_above_the_optimum_beyond_its_ci_is_an_error(tmp_path):
    reference = Reference("stratgym/PersuasionAgent-v0", "agent", optimum=1.0, uniform=0.0, score_basis="exact")
    suite = _suite("agent", AGENT, {"scheme": "optimal"})
    row, records, caught = _summary(suite, [1.2, 1.3, 1.25], reference)
    assert row.above_optimum and "ERROR" in row.note
    assert any("above the optimum" in str(warning.message) for warning in caught)
    assert scoring_errors([row]) and table_lines([row])[1][0][3] == "ERROR"
    assert table_lines([row])[1][0][4].startswith("ERROR")
    write_outputs(tmp_path, suite, [row], mean_curves(suite, records), {"agent": reference}, 1.0)
    report = (tmp_path / "report.md").read_text()
    assert report.index("## ERROR") < report.index("| env |")
    assert "True" in (tmp_path / "summary.csv").read_text().splitlines()[1].split(",")


def test_the_error_rule_respects_the_ci_the_basis_and_non_bounds():
    exact = Reference("x", "principal", optimum=1.0, uniform=0.0, score_basis="exact")
    assert not above_optimum(exact, [1.0, 1.0 + 1e-9, 0.99], 0.01, "exact")  # within the tolerance
    assert above_optimum(exact, [1.01, 0.95, 0.96], 0.1, "exact")  # one exact seed above an exact optimum
    assert not above_optimum(exact, [1.01, 0.95, 0.96], 0.1, "sampled")  # a sample inside its CI
    assert above_optimum(exact, [1.2, 1.21, 1.22], 0.02, "sampled")  # a sample beyond its CI
    commitment = Reference("x", "principal", optimum=1.0, uniform=0.0, upper_bound=False)
    assert not above_optimum(commitment, [1.5, 1.5], 0.0, "sampled")  # a commitment value bounds nothing


def test_score_bases_of_the_envs():
    assert score_basis(make_env(AGENT)) == score_basis(make_env("stratgym/PersuasionScheme-v0")) == "exact"
    assert score_basis(make_env(COMMITMENT)) == "exact"
    assert score_basis(make_env("stratgym/StatefulPrincipal-v0", {"response_model": "forecasting"})) == "exact"
    assert score_basis(make_env("stratgym/StatefulAgent-v0")) == "exact per episode"
    assert score_basis(make_env("stratgym/PersuasionRecommend-v0")) == "sampled"
    assert score_basis(make_env(AGENT), deterministic=False) == "sampled"


def test_robust_optima_are_strict_and_below_the_exact_ones():
    scheme_reference = reference_values("stratgym/PersuasionScheme-v0")
    regions = make_env("stratgym/PersuasionScheme-v0").unwrapped.regions
    margin = 1e-3 * float(np.ptp(regions.agent_payoffs[regions.masses > 0]))
    robust = optimal_scheme(regions, bic_margin=margin)
    assert robust.certificate.bic_slack >= margin - 1e-9  # every recommendation is followed by the margin
    assert robust.principal_value == pytest.approx(scheme_reference.robust_optimum)
    assert scheme_reference.robust_optimum <= scheme_reference.optimum + 1e-12
    for kwargs in ({"game": NEGATIVE_OPTIMUM}, {"game": "classroom"}):
        reference = reference_values(COMMITMENT, kwargs)
        assert reference.robust_optimum is not None and reference.robust_optimum <= reference.optimum + 1e-9
    agent = reference_values(AGENT)
    assert agent.robust_optimum == agent.optimum and "n/a" in agent.robust_note


def test_a_margin_no_scheme_achieves_raises_a_value_error():
    with pytest.raises(ValueError, match="bic_margin"):
        solve_signaling_lp([[0.0, 1.0]], [[0.5, 0.5]], [1.0], bic_margin=1e-3)  # the agent is always indifferent
    with pytest.raises(ValueError, match="bic_margin"):
        solve_signaling_lp([[0.0, 1.0]], [[0.5, 0.5]], [1.0], bic_margin=-1.0)


class _DeclaredScore(gym.Env):
    """A two-action bandit that declares its own exact score (the protocol of stratgym.agents.evaluate): action a
    pays 1 with probability ``(a + 1) / 4``."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, basis: str = "exact"):
        self.score_basis = basis

    def expected_return(self, act) -> float:
        return (int(act(np.zeros(1, np.float32))) + 1) / 4

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.zeros(1, np.float32), float(self.np_random.random() < (action + 1) / 4), True, False, {}


def test_an_env_can_declare_its_score_basis_and_exact_expected_return():
    env = _DeclaredScore()
    assert score_basis(env) == "exact" and score_basis(env, deterministic=False) == "sampled"
    score = score_policy(lambda obs: 1, env, n_episodes=50)
    assert score.basis == "exact" and score.mean == 0.5 and score.returns.size == 1  # not the coin flips' mean
    sampled = score_policy(lambda obs: 1, _DeclaredScore("sampled"), n_episodes=50)
    assert sampled.basis == "sampled" and sampled.returns.size == 50 and set(sampled.returns) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="score_basis must be one of"):
        score_basis(_DeclaredScore("roughly"))
