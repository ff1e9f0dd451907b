"""The trust bound of ``PersuasionRecommend-v0`` (:mod:`stratgym.baselines.trust`, the env's reference against its
learning receiver): above the brute-force optimum of every small game, exact where it can be, bad input refused."""

import copy
import functools

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from stratgym.agents.instances import make_env
from stratgym.agents.random_suite import FAMILIES, discriminates, family_reference
from stratgym.agents.references.persuasion import TrustRationing, receiver_bound
from stratgym.baselines.signaling import optimal_scheme
from stratgym.baselines.trust import learning_receiver_bound
from stratgym.envs.persuasion import PersuasionRecommendEnv
from stratgym.games.persuasion import random_persuasion_game


def _recommend_optimum(env: gym.Env) -> float:
    """The exact optimal expected return of ``PersuasionRecommend-v0`` against its receiver by brute force: expectimax
    over every region and recommendation of every round, the receiver played by its own methods (independent of
    the LP behind receiver_bound)."""
    unwrapped = env.unwrapped
    regions, rounds = unwrapped.regions, env.spec.max_episode_steps
    weights = regions.masses / regions.masses.sum()
    receiver = copy.deepcopy(unwrapped.receiver)
    receiver.reset(unwrapped.context)

    @functools.lru_cache(maxsize=None)
    def value(t: int, values: tuple, counts: tuple) -> float:
        if t == rounds:
            return 0.0
        total = 0.0
        for s in np.flatnonzero(weights > 0):
            best = -np.inf
            for a in range(regions.n_actions):
                receiver.values, receiver.counts = np.array(values), np.array(counts)
                taken = receiver.respond(a)
                receiver.update(a, taken, regions.agent_payoffs[s, taken])
                best = max(best, regions.principal_payoffs[s, taken]
                           + value(t + 1, tuple(receiver.values), tuple(receiver.counts)))
            total += weights[s] * best
        return total

    return value(0, tuple(receiver.values), tuple(receiver.counts))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.sampled_from([2, 3]), st.booleans())
def test_receiver_bound_is_above_the_brute_force_optimum(seed, rounds, n_actions, decision_dependent):
    game = random_persuasion_game(np.random.default_rng(seed), n_features=3, n_actions=n_actions, prior="finite",
                                  decision_dependent=decision_dependent)
    env = gym.make("stratgym/PersuasionRecommend-v0", game=game, max_episode_steps=rounds)
    optimum, bound = _recommend_optimum(env), receiver_bound(env)
    assert optimum <= bound + 1e-9
    regions = env.unwrapped.regions
    no_information = rounds * float(regions.masses @ regions.principal_payoffs[:, env.unwrapped.context.default_action]
                                    / regions.masses.sum())
    assert optimum >= no_information - 1e-9
    if bound == pytest.approx(no_information, abs=1e-12):  # nothing the receiver follows pays: exact
        assert optimum == pytest.approx(bound, abs=1e-9)
    if rounds == 1:  # one round: the last-loss allowance covers any follow, so the bound is the best trusted action
        assert optimum == pytest.approx(bound, abs=1e-9)


def test_receiver_bound_is_exact_where_the_receiver_trusts_nothing_that_pays():
    """Seed 0 of the old recommend draw: every action the principal values costs more than 1 - V_d, so the learning
    receiver never follows it; the bound is 0, what a uniformly random recommender earns."""
    family = FAMILIES["recommend"]
    env = make_env(family.env_id, family.instance_kwargs(0))
    assert receiver_bound(env) == 0.0 == family_reference(family, 0).optimum
    commitment = 100 * optimal_scheme(env.unwrapped.regions).principal_value
    assert commitment > 5  # the commitment value, once the reference, that no learner could ever reach
    assert not discriminates(family, 0)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    total = sum(env.step(int(rng.integers(env.action_space.n)))[1] for _ in range(300))
    assert total == 0.0


def test_receiver_bound_needs_the_learning_receiver():
    from stratgym.agents.responses import QuantalReceiver

    with pytest.raises(ValueError, match="LearningReceiver"):
        receiver_bound(gym.make("stratgym/PersuasionRecommend-v0", agent=QuantalReceiver(1.0)))
    with pytest.raises(ValueError, match="LearningReceiver"):
        receiver_bound(gym.make("stratgym/PersuasionScheme-v0"))


def test_trust_bound_refuses_bad_arguments_naming_them():
    env = PersuasionRecommendEnv()
    regions, context = env.regions, env.context
    start = env.receiver.start_values(context)
    for kwargs, name in [({"start_values": start[:2]}, "start_values"), ({"rounds": 0}, "rounds"),
                         ({"margin": -1.0}, "margin"), ({"margin": float("nan")}, "margin")]:
        arguments = {"start_values": start, "rounds": 100, **kwargs}
        with pytest.raises(ValueError, match=name):
            learning_receiver_bound(regions, context, **arguments)


def test_trust_bound_occupancy_is_a_distribution_over_regions_and_actions():
    env = PersuasionRecommendEnv()
    context = env.context
    bound = learning_receiver_bound(env.regions, context, env.receiver.start_values(context), 100)
    prior = env.regions.masses / env.regions.masses.sum()
    assert np.all(bound.occupancy >= -1e-12)
    np.testing.assert_allclose(bound.occupancy.sum(axis=1), prior, atol=1e-12)
    value = 100 * float((bound.occupancy * env.regions.principal_payoffs).sum())
    assert value == pytest.approx(bound.value, abs=1e-9)
    robust = learning_receiver_bound(env.regions, context, env.receiver.start_values(context), 100, margin=0.01)
    assert robust.value <= bound.value + 1e-12  # a strict gain for the receiver can only cost the principal


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([2, 3, 4]))
def test_trust_rationing_never_loses_the_receivers_trust(seed, n_actions):
    """Its invariant, checked on the receiver itself: every recommendation is followed, and the receiver still
    follows it afterwards; and its value is below the trust bound (it is a feasible policy)."""
    game = random_persuasion_game(np.random.default_rng(seed), n_features=3, n_actions=n_actions)
    env = gym.make("stratgym/PersuasionRecommend-v0", game=game, max_episode_steps=60)
    policy, receiver = TrustRationing(env), env.unwrapped.receiver
    returns = np.zeros(30)
    for episode in range(returns.size):
        observation, _ = env.reset(seed=seed + episode)
        for _ in range(60):
            action = policy(observation)
            observation, reward, _, _, info = env.step(action)
            assert info["followed"], (seed, action)
            assert receiver.follow_probabilities()[action] == 1.0
            returns[episode] += reward
    # The bound is on the expected return: a sample mean may exceed it by its noise (3 standard errors).
    assert returns.mean() - 3 * returns.std(ddof=1) / np.sqrt(returns.size) <= receiver_bound(env) + 1e-9


def test_trust_rationing_needs_the_learning_receiver_and_its_history():
    with pytest.raises(ValueError, match="LearningReceiver"):
        TrustRationing(gym.make("stratgym/PersuasionRecommend-v0", history=False))
    with pytest.raises(ValueError, match="LearningReceiver"):
        TrustRationing(gym.make("stratgym/PersuasionScheme-v0"))


def test_trust_bound_keeps_each_trust_constraint_and_start_values_decide_trust():
    env = PersuasionRecommendEnv()
    regions, context = env.regions, env.context
    agent, default = regions.agent_payoffs, context.default_action
    benchmark = float(context.prior_values[default])
    start = env.receiver.start_values(context)
    bound = learning_receiver_bound(regions, context, start, 100)
    positive = regions.masses > 0
    for a in range(regions.n_actions):
        if a == default:
            continue
        followed = bound.occupancy[:, a] @ (agent[:, a] - benchmark)
        if start[a] >= benchmark:
            assert followed >= -max(benchmark - agent[positive, a].min(), 0.0) / 100 - 1e-9
        else:
            assert np.all(bound.occupancy[:, a] == 0.0)
    # No recommendation trusted at the start (initial_values below V_d): the no-information value, exactly.
    distrust = learning_receiver_bound(regions, context, np.full(regions.n_actions, benchmark - 1e-9), 100)
    prior = regions.masses / regions.masses.sum()
    assert distrust.value == pytest.approx(100 * prior @ regions.principal_payoffs[:, default], abs=1e-12)
    # Trust at exactly V_d counts as trust (the receiver's ties go to obedience).
    tied = learning_receiver_bound(regions, context, np.full(regions.n_actions, benchmark), 100)
    assert tied.value >= distrust.value
