"""Bounded-rationality response models: identities with the exact models, limits, seeding, env plug-in."""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratgym  # noqa: F401
from stratgym.agents.responses import (
    LookaheadResponse,
    QuantalReceiver,
    QuantalResponse,
    planning_game,
    respond_to_policy,
)
from stratgym.games.stateful import best_response, classroom, random_game


def _instance(seed: int, horizon: int, conversion: str = "linear"):
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=horizon, n_features=int(rng.integers(1, 4)), n_efforts=int(rng.integers(1, 4)),
                       conversion=conversion)
    theta = rng.dirichlet(np.ones(game.n_features), size=horizon)
    return game, theta, rng


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), horizon=st.integers(1, 5))
def test_lookahead_one_is_myopic_and_full_is_forecasting(seed, horizon):
    game, theta, rng = _instance(seed, horizon)
    myopic = best_response(game, theta, "myopic").effort
    forecasting = best_response(game, theta, "forecasting").effort
    np.testing.assert_array_equal(respond_to_policy(game, LookaheadResponse(1), theta, rng), myopic)
    np.testing.assert_array_equal(respond_to_policy(game, LookaheadResponse(horizon), theta, rng), forecasting)
    np.testing.assert_array_equal(respond_to_policy(game, LookaheadResponse(None), theta, rng), forecasting)
    np.testing.assert_array_equal(respond_to_policy(game, LookaheadResponse(horizon + 3), theta, rng), forecasting)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_lookahead_identities_hold_for_concave_games(seed):
    game, theta, rng = _instance(seed, 2, conversion="log1p")
    np.testing.assert_allclose(respond_to_policy(game, LookaheadResponse(1), theta, rng),
                               best_response(game, theta, "myopic").effort, atol=1e-6)
    np.testing.assert_allclose(respond_to_policy(game, LookaheadResponse(2), theta, rng),
                               best_response(game, theta, "forecasting").effort, atol=1e-6)


def test_lookahead_in_between_sees_only_k_rounds():
    # Classroom, T = 5: studying is worth 0.4 * (rounds it counts in); copying/looking up is worth at
    # least 0.5 now. A k-round planner studies while 0.4 * min(k, T - t) > 0.5, i.e. k >= 2 and t <= T - 2.
    game = classroom(horizon=5)
    theta = np.full((5, 2), 0.5)
    for k in range(1, 6):
        study = respond_to_policy(game, LookaheadResponse(k), theta)[:, 1]
        expected = [float(k >= 2 and t <= 3) for t in range(5)]
        np.testing.assert_array_equal(study, expected)


def test_planning_game_horizon_and_state():
    game = classroom(horizon=5)
    sub = planning_game(game, [0.0, 2.0, 0.0], 3, 4)
    assert sub.horizon == 2 and np.array_equal(sub.initial_state, [0.0, 2.0, 0.0])
    assert planning_game(game, game.initial_state, 1, None).horizon == 4
    assert planning_game(game, game.initial_state, 1, 2).horizon == 2


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), horizon=st.integers(1, 4), lookahead=st.sampled_from([1, 2, None]))
def test_quantal_at_infinite_beta_is_the_exact_response(seed, horizon, lookahead):
    game, theta, rng = _instance(seed, horizon)
    exact = respond_to_policy(game, LookaheadResponse(lookahead), theta)
    np.testing.assert_array_equal(respond_to_policy(game, QuantalResponse(np.inf, lookahead), theta, rng), exact)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lookahead=st.sampled_from([1, None]))
def test_quantal_concentrates_on_the_best_response_as_beta_grows(seed, lookahead):
    game, theta, rng = _instance(seed, 3)
    model = QuantalResponse(1.0, lookahead)
    options = np.append(game.budget * model.marginal_values(game, theta[0], game.initial_state, 0), 0.0)
    ranked = np.sort(options)
    gap = ranked[-1] - ranked[-2]
    if gap < 1e-6:  # tied best options share the mass; the limit is then the tie-break, tested above
        return
    best = int(np.argmax(options))
    previous = 0.0
    for scale in (0.0, 1.0, 5.0, 20.0, 60.0):
        probabilities = QuantalResponse(scale / gap, lookahead).probabilities(game, theta[0], game.initial_state, 0)
        assert probabilities.sum() == pytest.approx(1.0)
        assert probabilities[best] >= previous - 1e-12
        previous = probabilities[best]
    assert previous >= 1.0 - game.n_efforts * np.exp(-60.0)
    exact = respond_to_policy(game, LookaheadResponse(lookahead), theta)
    np.testing.assert_array_equal(QuantalResponse(1e3 / gap, lookahead).respond(game, theta[0], game.initial_state, 0, rng),
                                  exact[0])


def test_quantal_at_zero_beta_is_uniform_and_sampling_matches_probabilities():
    game, theta = classroom(horizon=3), np.full((3, 2), 0.5)
    np.testing.assert_allclose(QuantalResponse(0.0).probabilities(game, theta[0], game.initial_state, 0), 0.25)
    model = QuantalResponse(4.0, lookahead=None)
    probabilities = model.probabilities(game, theta[0], game.initial_state, 0)
    rng = np.random.default_rng(7)
    draws = np.array([model.respond(game, theta[0], game.initial_state, 0, rng) for _ in range(4000)])
    chosen = np.where(draws.sum(axis=1) > 0, draws.argmax(axis=1), game.n_efforts)
    frequencies = np.bincount(chosen, minlength=game.n_efforts + 1) / len(chosen)
    # 4000 draws: each frequency is within 4 standard errors (<= 0.032) of its probability.
    np.testing.assert_allclose(frequencies, probabilities, atol=0.032)
    assert np.all(draws.sum(axis=1) <= game.budget + 1e-12) and np.all(draws >= 0)


def test_a_huge_beta_is_the_best_response_not_nan():
    game = classroom(horizon=3, budget=1e10)
    probabilities = QuantalResponse(1e300).probabilities(game, np.array([0.5, 0.5]), game.initial_state, 0)
    np.testing.assert_array_equal(probabilities, QuantalResponse(np.inf).probabilities(game, np.array([0.5, 0.5]),
                                                                                    game.initial_state, 0))
    from stratgym.baselines.signaling import full_revelation
    from stratgym.envs.spaces import simplex_to_box

    rewards = []
    for beta in (1e300, np.inf):  # full revelation has no posterior ties here: the limit is the exact agent
        env = gym.make("stratgym/PersuasionScheme-v0", agent=beta)
        env.reset(seed=0)
        rewards.append(env.step(simplex_to_box(full_revelation(env.unwrapped.regions).scheme))[1])
    assert np.isfinite(rewards[0]) and rewards[0] == pytest.approx(rewards[1], abs=1e-6)


def test_quantal_is_seeded_by_the_rng_passed_in():
    game, theta = classroom(horizon=4), np.full((4, 2), 0.5)
    model = QuantalResponse(2.0)
    first = respond_to_policy(game, model, theta, np.random.default_rng(3))
    again = respond_to_policy(game, model, theta, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    draws = {respond_to_policy(game, model, theta, np.random.default_rng(s)).tobytes() for s in range(20)}
    assert len(draws) > 1


def test_models_plug_into_the_principal_env():
    game = classroom(horizon=4)
    pairs = [("myopic", QuantalResponse(np.inf, lookahead=1)), ("forecasting", LookaheadResponse(None)),
             ("myopic", LookaheadResponse(1))]
    for exact, model in pairs:
        envs = [gym.make("stratgym/StatefulPrincipal-v0", game=game, agent=m) for m in (exact, model)]
        actions = np.random.default_rng(0).uniform(-1, 1, (4, 2)).astype(np.float32)
        trajectories = []
        for env in envs:
            env.reset(seed=1)
            trajectories.append([env.step(a)[4]["effort"] for a in actions])
        np.testing.assert_array_equal(trajectories[0], trajectories[1])
    env = gym.make("stratgym/StatefulPrincipal-v0", game=game, agent=QuantalResponse(1.0))
    returns = []
    for _ in range(2):
        env.reset(seed=5)
        returns.append([env.step(np.zeros(2, dtype=np.float32))[1] for _ in range(4)])
    assert returns[0] == returns[1]


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "high", True])
def test_quantal_rejects_bad_beta(bad):
    with pytest.raises(ValueError, match="beta"):
        QuantalResponse(bad)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_lookahead_is_rejected(bad):
    with pytest.raises(ValueError, match="lookahead"):
        LookaheadResponse(bad)
    with pytest.raises(ValueError, match="lookahead"):
        QuantalResponse(1.0, bad)


def test_quantal_rejects_concave_games_and_bad_rounds():
    game = classroom(horizon=3, conversion="sqrt")
    with pytest.raises(ValueError, match="linear"):
        QuantalResponse(1.0).respond(game, np.array([0.5, 0.5]), game.initial_state, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="round_index"):
        LookaheadResponse(1).respond(classroom(horizon=3), np.array([0.5, 0.5]), np.zeros(3), 3, None)


def _recommend_trajectory(receiver, seed=3, rounds=60):
    env = gym.make("stratgym/PersuasionRecommend-v0", agent=receiver)
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, rounds)
    return [(info["action"], reward) for _, reward, _, _, info in (env.step(int(a)) for a in actions)]


def test_quantal_receiver_at_infinite_beta_is_the_learning_receiver():
    from stratgym.envs.persuasion import LearningReceiver

    exact = _recommend_trajectory(LearningReceiver())
    assert _recommend_trajectory(QuantalReceiver(np.inf)) == exact
    assert _recommend_trajectory(QuantalReceiver(1e9)) == exact  # no exact ties on this instance
    assert _recommend_trajectory(QuantalReceiver(0.5)) != exact


def test_quantal_receiver_follow_probabilities_are_the_logit():
    from stratgym.envs.persuasion import receiver_context

    env = gym.make("stratgym/PersuasionRecommend-v0")
    context = receiver_context(env.unwrapped.game, env.unwrapped.regions)
    receiver = QuantalReceiver(3.0)
    receiver.reset(context, np.random.default_rng(0))
    values = 1.0 - context.costs  # the optimistic start
    benchmark = context.prior_values[context.default_action]
    expected = [1.0 if a == context.default_action else 1.0 / (1.0 + np.exp(-3.0 * (values[a] - benchmark)))
                for a in range(len(values))]
    np.testing.assert_allclose(receiver.follow_probabilities(), expected)
    zero = QuantalReceiver(0.0)
    zero.reset(context, np.random.default_rng(0))
    assert sorted(set(zero.follow_probabilities().tolist())) == [0.5, 1.0]
    other = next(a for a in range(len(values)) if a != context.default_action)
    rng = np.random.default_rng(1)
    followed = np.mean([zero.respond(other, rng) == other for _ in range(4000)])
    assert abs(followed - 0.5) < 0.032  # 4 standard errors of 4000 fair draws


def test_quantal_receiver_is_seeded_by_the_env():
    assert _recommend_trajectory(QuantalReceiver(2.0), seed=4) == _recommend_trajectory(QuantalReceiver(2.0), seed=4)
    with pytest.raises(ValueError, match="beta"):
        QuantalReceiver(-1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), horizon=st.integers(1, 4))
def test_models_plug_into_the_commitment_env(seed, horizon):
    """The committed policy answered round by round: lookahead 1 / the whole horizon are the game's myopic /
    forecasting responses, and a quantal agent draws exactly what it draws from the env's seeded generator."""
    from stratgym.envs.spaces import simplex_to_box

    game, theta, _ = _instance(seed, horizon)
    action = simplex_to_box(theta)
    played = _mapped(action)

    def effort(model, env_seed=0):
        env = gym.make("stratgym/StatefulCommitment-v0", game=game, agent=model)
        env.reset(seed=env_seed)
        return env.step(action)[4]["effort"]

    for exact, model in (("myopic", LookaheadResponse(1)), ("forecasting", LookaheadResponse(None)),
                         ("myopic", QuantalResponse(np.inf, lookahead=1))):
        np.testing.assert_array_equal(effort(model), best_response(game, played, exact).effort)
        np.testing.assert_array_equal(effort(exact), best_response(game, played, exact).effort)
    quantal = QuantalResponse(2.0)
    np.testing.assert_array_equal(effort(quantal, env_seed=9),
                                  respond_to_policy(game, quantal, played, np.random.default_rng(9)))


def _mapped(action):
    """What the env maps the Box ``action`` to (row-wise onto the simplex): float32 actions round the point."""
    from stratgym.envs.spaces import box_to_simplex

    return box_to_simplex(np.asarray(action, dtype=np.float64))


def test_commitment_env_checks_a_custom_models_effort_and_its_reference_needs_a_known_model():
    from stratgym.agents.references import reference_values
    from stratgym.baselines.stateful import solve

    class Overspender:
        def respond(self, game, rule, state, round_index, rng):
            return np.full(game.n_efforts, game.budget)

    env = gym.make("stratgym/StatefulCommitment-v0", agent=Overspender())
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent.respond"):
        env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    with pytest.raises(ValueError, match="agent"):
        gym.make("stratgym/StatefulCommitment-v0", agent="clairvoyant")
    game = classroom(horizon=4)
    for model in ("rational", "myopic", "forecasting"):
        reference = reference_values("stratgym/StatefulCommitment-v0", {"game": game, "response_model": model})
        assert reference.optimum == pytest.approx(solve(game, model).principal_value)
    with pytest.raises(ValueError, match="exact references"):
        reference_values("stratgym/StatefulCommitment-v0", {"game": game, "response_model": QuantalResponse(1.0)})


def _quantal_by_hand(regions, scheme, beta):
    """The logit agent's expected principal utility, computed region by region (independent of ``quantal_choice``)."""
    masses = regions.masses / regions.masses.sum()
    total = 0.0
    for a in range(regions.n_actions):
        joint = masses * scheme[:, a]
        if joint.sum() <= 0:
            continue
        posterior = joint / joint.sum()
        utilities = np.array([posterior @ regions.agent_payoffs[:, b] for b in range(regions.n_actions)])
        weights = np.exp(beta * (utilities - utilities.max()))
        choice = weights / weights.sum()
        total += sum(joint.sum() * choice[b] * (posterior @ regions.principal_payoffs[:, b])
                     for b in range(regions.n_actions))
    return total


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), beta=st.sampled_from([0.0, 0.5, 3.0, 40.0]))
def test_quantal_agent_in_the_scheme_env_matches_a_direct_computation(seed, beta):
    from stratgym.envs.spaces import simplex_to_box
    from stratgym.games.persuasion import equivalence_regions, random_persuasion_game

    rng = np.random.default_rng(seed)
    game = random_persuasion_game(rng, n_features=3, n_actions=int(rng.integers(2, 4)))
    regions = equivalence_regions(game, rng=np.random.default_rng(0))
    scheme = rng.dirichlet(np.ones(regions.n_actions), size=regions.n_regions)
    env = gym.make("stratgym/PersuasionScheme-v0", game=game, regions=regions, agent=beta)
    env.reset(seed=0)
    reward = env.step(simplex_to_box(scheme))[1]
    assert reward == pytest.approx(_quantal_by_hand(regions, _mapped(simplex_to_box(scheme)), beta), abs=1e-9)


def test_quantal_scheme_agent_limits_sampling_and_arguments():
    from stratgym.baselines.signaling import full_revelation
    from stratgym.envs.spaces import simplex_to_box

    exact_env = gym.make("stratgym/PersuasionScheme-v0")
    regions = exact_env.unwrapped.regions
    # Full revelation has no posterior ties on this instance, so a sharp logit agent matches the exact one.
    scheme = full_revelation(regions).scheme
    exact_env.reset(seed=0)
    exact = exact_env.step(simplex_to_box(scheme))[1]
    sharp = gym.make("stratgym/PersuasionScheme-v0", agent=1e4)
    sharp.reset(seed=0)
    assert sharp.step(simplex_to_box(scheme))[1] == pytest.approx(exact, abs=1e-6)
    sampled = gym.make("stratgym/PersuasionScheme-v0", agent=2.0, reward="sampled")
    expected = gym.make("stratgym/PersuasionScheme-v0", agent=2.0)
    expected.reset(seed=0)
    mean = expected.step(simplex_to_box(scheme))[1]
    sampled.reset(seed=3)
    draws = []
    for _ in range(4000):
        sampled.reset()
        draws.append(sampled.step(simplex_to_box(scheme))[1])
    assert abs(np.mean(draws) - mean) < 4 * np.std(draws) / np.sqrt(len(draws)) + 1e-12
    with pytest.raises(ValueError, match="agent"):
        gym.make("stratgym/PersuasionScheme-v0", agent=-1.0)
    with pytest.raises(ValueError, match="agent_beta=inf"):
        gym.make("stratgym/PersuasionScheme-v0", agent=1.0, reward="penalized")


def test_json_names_build_the_same_agents_as_the_classes():
    from stratgym.agents.instances import make_env
    from stratgym.envs.persuasion import LearningReceiver

    game = classroom(horizon=4)
    pairs = [({"name": "quantal", "beta": 2.0, "lookahead": 2}, QuantalResponse(2.0, 2)),
             ({"name": "lookahead", "lookahead": 1}, LookaheadResponse(1))]
    actions = np.random.default_rng(0).uniform(-1, 1, (4, 2)).astype(np.float32)
    for spec, model in pairs:
        trajectories = []
        for response_model in (spec, model):
            env = make_env("stratgym/StatefulPrincipal-v0", {"game": game, "response_model": response_model})
            env.reset(seed=3)
            trajectories.append([env.step(a)[4]["effort"] for a in actions])
        np.testing.assert_array_equal(trajectories[0], trajectories[1])
    for spec, receiver in (({"name": "quantal", "beta": 0.5}, QuantalReceiver(0.5)),
                           ({"name": "learning"}, LearningReceiver())):
        named = make_env("stratgym/PersuasionRecommend-v0", {"receiver": spec}).unwrapped.receiver
        assert type(named) is type(receiver) and repr(named) == repr(receiver)
    with pytest.raises(ValueError, match="response_model name must be one of"):
        make_env("stratgym/StatefulPrincipal-v0", {"response_model": {"name": "clairvoyant"}})
    with pytest.raises(ValueError, match="beta"):
        make_env("stratgym/StatefulPrincipal-v0", {"response_model": {"name": "quantal", "beta": -1}})
