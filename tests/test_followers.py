"""Learning followers: Hedge's regret within its theorem's bound on random and adversarial sequences, fictitious
play settling on the best response to a fixed principal, and regrets recomputed here from the raw sequences
(brute force over fixed maps / effort policies), never read back from the learner."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratgym.agents.followers import (Contextual, FictitiousPlay, Hedge, option_values, repeated_commitment,
                                       repeated_persuasion, vertex_efforts)
from stratgym.games.persuasion import equivalence_regions, evaluate_scheme, prosecutor, random_persuasion_game
from stratgym.games.stateful import best_response, classroom, random_game, rollout


def _play(learner: Hedge | FictitiousPlay, rewards_for, rounds: int):
    """Run ``learner`` for ``rounds`` on ``rewards_for(probabilities)``; the probabilities and rewards it saw."""
    seen_p, seen_r = [], []
    for _ in range(rounds):
        p = learner.probabilities()
        r = rewards_for(p)
        seen_p.append(p)
        seen_r.append(r)
        learner.update(r)
    return np.array(seen_p), np.array(seen_r)


def _regret(probabilities: np.ndarray, rewards: np.ndarray) -> float:
    """External regret from scratch: best fixed action's total minus the expected total."""
    return float(rewards.sum(axis=0).max() - np.einsum("tn,tn->", probabilities, rewards))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 6), rounds=st.integers(1, 300),
       low=st.floats(-3, 3), width=st.floats(0.1, 5))
def test_hedge_regret_is_within_the_bound_on_random_sequences(seed, n, rounds, low, width):
    rng = np.random.default_rng(seed)
    hedge = Hedge(n, horizon=rounds, reward_range=(low, low + width))
    probabilities, rewards = _play(hedge, lambda p: low + width * rng.random(n), rounds)
    bound = np.sqrt(rounds * np.log(n) / 2) * width
    assert _regret(probabilities, rewards) <= bound + 1e-9
    assert hedge.regret() == pytest.approx(_regret(probabilities, rewards), abs=1e-9)
    assert hedge.regret_bound() == pytest.approx(bound, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 6), rounds=st.integers(1, 400), adversary=st.sampled_from(["least-likely", "switching"]))
def test_hedge_regret_is_within_the_bound_against_adaptive_adversaries(n, rounds, adversary):
    hedge = Hedge(n, horizon=rounds)
    counter = itertools.count()

    def rewards_for(p):
        if adversary == "least-likely":  # reward only the action Hedge plays least: the classic worst case
            return np.eye(n)[int(np.argmin(p))]
        return np.eye(n)[(next(counter) // 7) % n]  # a leader that changes every 7 rounds

    probabilities, rewards = _play(hedge, rewards_for, rounds)
    assert _regret(probabilities, rewards) <= np.sqrt(rounds * np.log(n) / 2) + 1e-9


def test_the_least_likely_adversary_makes_fictitious_play_regret_linearly_but_not_hedge():
    """The bound is not vacuous: the same adversary drives follow-the-leader to regret about T / 2."""
    rounds = 400
    adversary = lambda p: np.eye(2)[int(np.argmin(p))]  # noqa: E731
    fp_p, fp_r = _play(FictitiousPlay(2), adversary, rounds)
    hedge_p, hedge_r = _play(Hedge(2, horizon=rounds), adversary, rounds)
    assert _regret(fp_p, fp_r) >= 0.45 * rounds
    assert _regret(hedge_p, hedge_r) <= np.sqrt(rounds * np.log(2) / 2)


def test_hedge_rejects_bad_arguments():
    with pytest.raises(ValueError, match="horizon"):
        Hedge(3)
    with pytest.raises(ValueError, match="reward_range"):
        Hedge(3, horizon=10, reward_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="n_actions"):
        Hedge(0, horizon=10)
    with pytest.raises(ValueError, match="rewards"):
        Hedge(2, horizon=10).update([np.nan, 0.0])
    with pytest.raises(ValueError, match="rewards"):
        Hedge(2, horizon=10).update([0.0, 0.0, 0.0])


def _contextual_regret(contexts, rewards, probabilities) -> float:
    """Regret against the best fixed map context -> action, from the raw sequence."""
    total = 0.0
    for context in np.unique(contexts):
        mask = contexts == context
        total += _regret(probabilities[mask], rewards[mask])
    return total


@pytest.mark.parametrize("seed", range(6))
def test_fictitious_play_settles_on_the_posterior_best_response_to_a_fixed_scheme(seed):
    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_actions=3, prior="finite")
    regions = equivalence_regions(game)
    scheme = rng.dirichlet(np.ones(regions.n_actions), size=regions.n_regions)
    follower = Contextual(regions.n_actions, lambda: FictitiousPlay(regions.n_actions))
    repeated_persuasion(regions, scheme, follower, 10_000, rng)
    evaluation = evaluate_scheme(regions, scheme)
    posterior = evaluation.posterior_agent_values
    checked = 0
    for a in range(regions.n_actions):
        top = np.sort(posterior[a])
        if evaluation.recommendation_probabilities[a] > 0.05 and top[-1] - top[-2] > 0.05:  # heard, no near tie
            assert follower.policy()[a] == np.argmax(posterior[a])
            checked += 1
    assert checked >= 1


def test_fictitious_play_obeys_the_optimal_prosecutor_scheme_when_strictly_incentivized():
    regions = equivalence_regions(prosecutor())
    scheme = np.array([[0.6, 0.4], [0.0, 1.0]])  # acting recommended 0.4 of the time when useless: strictly BIC
    follower = Contextual(2, lambda: FictitiousPlay(2))
    repeated_persuasion(regions, scheme, follower, 5000, np.random.default_rng(0))
    assert list(follower.policy()) == [0, 1]


def test_repeated_persuasion_records_match_the_regret_recomputed_from_scratch():
    rng = np.random.default_rng(3)
    game = random_persuasion_game(rng, n_actions=3, prior="finite")
    regions = equivalence_regions(game)
    scheme = rng.dirichlet(np.ones(3), size=regions.n_regions)
    rounds = 2000
    follower = Contextual(3, lambda: Hedge(3, horizon=rounds, reward_range=(-1.0, 1.0)))
    # Re-run with a recording copy: the same seeds give the same draws.
    probabilities = []
    recorder = Contextual(3, lambda: Hedge(3, horizon=rounds, reward_range=(-1.0, 1.0)))
    original_act = recorder.act

    def recording_act(context, generator):
        probabilities.append(recorder.probabilities(context))
        return original_act(context, generator)

    recorder.act = recording_act
    played = repeated_persuasion(regions, scheme, follower, rounds, np.random.default_rng(4))
    replayed = repeated_persuasion(regions, scheme, recorder, rounds, np.random.default_rng(4))
    assert np.array_equal(played.actions, replayed.actions)
    expected = _contextual_regret(played.contexts, played.reward_vectors, np.array(probabilities))
    assert played.regret == pytest.approx(expected, abs=1e-9)
    realized = sum(played.reward_vectors[played.contexts == c].sum(axis=0).max() for c in range(3)) \
        - played.agent_utilities.sum()
    assert played.realized_regret == pytest.approx(realized, abs=1e-9)
    # u_A ranges over [-1, 1] (1 minus a cost below 1), and each context's learner is tuned for `rounds`.
    assert played.regret <= 3 * np.sqrt(rounds * np.log(3) / 2) * 2.0


def test_repeated_commitment_regret_matches_brute_force_over_effort_policies():
    """The regret over per-round vertices equals U_A regret against the best fixed effort policy, found by brute force
    over all (d + 1)^T pure policies with rollout."""
    rng = np.random.default_rng(5)
    game = random_game(rng, horizon=3, n_features=2, n_efforts=2)
    plans = rng.dirichlet(np.ones(2), size=(60, 3))
    follower = Contextual(3, lambda: Hedge(3, horizon=60, reward_range=(-1.0, 1.0)))
    played = repeated_commitment(game, plans, follower, np.random.default_rng(6))
    best = max(rollout(game, plans, np.broadcast_to(vertex_efforts(game, options), (60, 3, 2))).agent_utility.sum()
               for options in itertools.product(range(3), repeat=3))
    assert played.realized_regret == pytest.approx(best - played.agent_utilities.sum(), abs=1e-9)
    # The played utilities are the rollout of the decoded options.
    options = np.array(np.unravel_index(played.actions, (3,) * 3)).T
    for k in (0, 59):
        assert played.agent_utilities[k] == pytest.approx(
            float(rollout(game, plans[k], vertex_efforts(game, options[k])).agent_utility))


def test_fictitious_play_against_a_fixed_plan_ends_at_the_rational_best_response():
    game = classroom(horizon=4)
    plan = np.full((4, 2), 0.5)
    follower = Contextual(4, lambda: FictitiousPlay(4))
    played = repeated_commitment(game, np.repeat(plan[None], 5, axis=0), follower, np.random.default_rng(0))
    exact = best_response(game, plan, "rational").effort
    options = np.array(np.unravel_index(played.actions[-1], (4,) * 4))
    assert np.allclose(vertex_efforts(game, options), exact)
    assert played.regret == pytest.approx(option_values(game, plan).max(axis=1).sum() - option_values(game, plan)[:, 0].sum(),
                                          abs=1e-9)  # only the first episode, at the initial action 0, loses
