"""Agent behaviour as objects (stratgym.games.behaviour): the legacy names and the objects give identical solver
results and env rollouts; Lookahead(k) against an independent planner and, for the solvers, against brute force;
NoExactMethodError for behaviours no solver handles; the deprecated argument names; bad input."""

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stratgym  # noqa: F401  (registers the envs)
from stratgym.agents.references import NoExactReference, reference_values
from stratgym.baselines import results
from stratgym.baselines.matrix import solve as solve_matrix
from stratgym.baselines.population import population_optimum
from stratgym.baselines.signaling import optimal_scheme
from stratgym.baselines.stateful import solve
from stratgym.envs.persuasion import LearningReceiver, QuantalReceiver
from stratgym.envs.spaces import box_to_simplex
from stratgym.games.behaviour import (NAMES, Bayesian, Behaviour, Learned, Learning, Lookahead, NoExactMethodError,
                                      Quantal, Rational, as_behaviour)
from stratgym.games.matrix import QuantalFollower, conitzer_sandholm
from stratgym.games.persuasion import equivalence_regions, prosecutor, random_persuasion_game
from stratgym.games.population import classroom_groups
from stratgym.games.stateful import best_response, classroom, marginal_values, random_game, respond_in_round

seeds = st.integers(0, 2**32 - 1)
LEGACY = {"rational": Rational(), "myopic": Lookahead(1), "forecasting": Lookahead(None)}


def _game(seed: int, max_horizon: int = 4, max_efforts: int = 3):
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, max_horizon + 1)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(1, max_efforts + 1)))
    return game, rng


def _rollout(env_id: str, seed: int, steps: int = 6, **kwargs) -> list:
    """Observations, rewards and infos of an episode (restarted when it ends) under seeded random actions."""
    env = gym.make(env_id, **kwargs)
    observation, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    played = [observation]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        played.append((observation, reward, terminated, {k: v for k, v in info.items() if k != "metrics"}))
        if terminated or truncated:
            played.append(env.reset()[0])
    return played


def _assert_same(first, second) -> None:
    if isinstance(first, dict):
        assert first.keys() == second.keys()
        for key in first:
            _assert_same(first[key], second[key])
    elif isinstance(first, (list, tuple)):
        assert len(first) == len(second)
        for a, b in zip(first, second):
            _assert_same(a, b)
    else:
        np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------------------------------------
# Legacy names and objects are one thing
# ---------------------------------------------------------------------------------------------

def test_names_are_the_legacy_strings_and_round_trip():
    for name, agent in LEGACY.items():
        assert agent.name == name and as_behaviour(name) == agent and isinstance(agent, Behaviour)
    for agent in (*NAMES.values(), Lookahead(3)):
        assert as_behaviour(agent.name) == agent
    assert Lookahead(3).name == "lookahead-3" and Quantal(2.0).name == "quantal" and Learning().name == "learning"
    assert as_behaviour(np.inf) == Bayesian() and as_behaviour(2.5) == Quantal(2.5)
    custom = object()
    assert as_behaviour(custom) is custom  # an env-protocol object passes through
    with pytest.raises(ValueError, match="agent name must be one of"):
        as_behaviour("clairvoyant")
    with pytest.raises(ValueError, match="persuasion"):
        as_behaviour(2.0, classroom())


def test_exact_methods_say_which_solver_methods_handle_a_behaviour():
    linear, concave = classroom(), classroom(conversion="sqrt")
    regions = equivalence_regions(prosecutor())
    assert Rational().exact_methods(linear) == ("milp", "brute-force")
    assert Lookahead(2).exact_methods(linear) == ("per-round", "milp", "brute-force")
    assert Rational().exact_methods(concave) == () and Lookahead(1).exact_methods(concave) == ()
    assert Rational().exact_methods(conitzer_sandholm()) == ("lp",)
    assert Bayesian().exact_methods(regions) == ("lp",) and Bayesian().exact_methods(linear) == ()
    for agent in (Quantal(1.0), Learning(), Learned(_Model())):
        assert agent.exact_methods(linear) == () and agent.exact_methods(regions) == ()


@settings(max_examples=12, deadline=None)
@given(seed=seeds)
def test_names_and_objects_give_identical_solver_results(seed):
    game, _ = _game(seed)
    for name, agent in LEGACY.items():
        by_name, by_object = solve(game, name), solve(game, agent=agent)
        np.testing.assert_array_equal(by_name.theta, by_object.theta)
        assert (by_name.principal_value, by_name.method) == (by_object.principal_value, by_object.method)
        assert by_name.agent == by_object.agent == agent
    regions = equivalence_regions(random_persuasion_game(np.random.default_rng(seed), n_features=2, n_actions=3),
                                  rng=np.random.default_rng(0))
    exact = optimal_scheme(regions)
    for agent in (Bayesian(), "bayesian", np.inf):
        np.testing.assert_array_equal(optimal_scheme(regions, agent=agent).scheme, exact.scheme)


def test_names_and_objects_give_identical_population_optima():
    population = classroom_groups()
    for name, agent in LEGACY.items():
        assert population_optimum(population, name).principal_value == \
            population_optimum(population, agent).principal_value


def _receiver_pairs():
    return [({"receiver": LearningReceiver()}, {"agent": Learning()}),
            ({"receiver": QuantalReceiver(0.5)}, {"agent": Learning(beta=0.5)}),
            ({"receiver": LearningReceiver([0.0, 0.0])}, {"agent": Learning(initial_values=(0.0, 0.0))})]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("env_id, legacy, new", [
    *[("stratgym/StatefulPrincipal-v0", {"response_model": name}, {"agent": agent})
      for name, agent in LEGACY.items() if name != "rational"],
    ("stratgym/StatefulPrincipal-v0", {"agent": "forecasting"}, {"agent": Lookahead(5)}),  # the default game: T = 5
    *[("stratgym/StatefulCommitment-v0", {"response_model": name}, {"agent": agent}) for name, agent in LEGACY.items()],
    ("stratgym/StatefulCommitment-v0", {}, {"agent": Rational()}),
    ("stratgym/StatefulPopulation-v0", {"response_model": "myopic"}, {"agent": Lookahead(1)}),
    ("stratgym/StatefulPopulation-v0", {}, {"agent": "forecasting"}),
    ("stratgym/PersuasionScheme-v0", {"agent_beta": np.inf}, {"agent": Bayesian()}),
    ("stratgym/PersuasionScheme-v0", {"agent_beta": 2.0, "reward": "sampled"}, {"agent": Quantal(2.0), "reward": "sampled"}),
    ("stratgym/PersuasionScheme-v0", {}, {"agent": "bayesian"}),
    *[("stratgym/PersuasionRecommend-v0", {"game": prosecutor(), **legacy}, {"game": prosecutor(), **new})
      for legacy, new in _receiver_pairs()],
    ("stratgym/MatrixCommitment-v0", {"follower": "rational"}, {"agent": Rational()}),
    ("stratgym/PersuasionPopulation-v0", {}, {"agent": Bayesian()}),
    ("stratgym/MatrixCommitment-v0", {"follower": QuantalFollower(2.0)}, {"agent": QuantalFollower(2.0)}),
])
def test_names_and_objects_give_identical_rollouts(env_id, legacy, new):
    for seed in (0, 7):
        _assert_same(_rollout(env_id, seed, **legacy), _rollout(env_id, seed, **new))


# ---------------------------------------------------------------------------------------------
# Lookahead(k): myopic at k = 1, forecasting at k = T, and an independent planner in between
# ---------------------------------------------------------------------------------------------

def _planned(game, k, rule, state, round_index):
    """The first round of the rational best response to ``rule`` held for ``min(k, T - t)`` rounds from ``state``:
    the k-round planner, computed with the full-horizon solver of a sub-game (not the per-round weights)."""
    sub = game.replace(horizon=min(k, game.horizon - round_index), initial_state=state)
    return best_response(sub, np.tile(rule, (sub.horizon, 1)), Rational()).effort[0]


@settings(max_examples=60, deadline=None)
@given(seed=seeds)
def test_lookahead_is_the_k_round_planner_myopic_at_one_and_forecasting_at_the_horizon(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng, horizon=int(rng.integers(1, 7)), n_features=int(rng.integers(1, 4)),
                       n_efforts=int(rng.integers(2, 5)))
    theta = rng.dirichlet(np.ones(game.n_features), size=game.horizon)
    for k in range(1, game.horizon + 2):
        effort = best_response(game, theta, Lookahead(k)).effort
        state = game.initial_state
        for t in range(game.horizon):  # the planner, played along the state path
            np.testing.assert_array_equal(effort[t], _planned(game, k, theta[t], state, t))
            state = game.persistence * state + game.retention * effort[t]
    np.testing.assert_array_equal(best_response(game, theta, Lookahead(1)).effort,
                                  best_response(game, theta, "myopic").effort)
    forecasting = best_response(game, theta, "forecasting").effort
    for horizon_or_more in (game.horizon, game.horizon + 3, None):
        np.testing.assert_array_equal(best_response(game, theta, Lookahead(horizon_or_more)).effort, forecasting)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, data=st.data())
def test_the_lookahead_optimum_is_exact_for_every_k(seed, data):
    """Per-round decomposition, MILP and brute force (three formulations) agree against Lookahead(k), 1 <= k <= T;
    Lookahead(T) is forecasting's optimum and Lookahead(1) the myopic one, bit for bit."""
    game, _ = _game(seed, max_horizon=4, max_efforts=3)
    k = data.draw(st.integers(1, game.horizon), label="k")
    per_round = solve(game, agent=Lookahead(k))
    assert per_round.method == "per-round" and per_round.agent == Lookahead(k)
    tolerance = 1e-7 * game.horizon * game.budget * max(1.0, float(np.abs(game.effort_value).max()))
    for method in ("milp", "brute-force"):
        assert solve(game, agent=Lookahead(k), method=method).principal_value == \
            pytest.approx(per_round.principal_value, abs=tolerance)
    legacy = {1: "myopic", game.horizon: "forecasting"}
    if k in legacy:
        np.testing.assert_array_equal(per_round.theta, solve(game, legacy[k]).theta)


def test_a_two_round_planner_in_the_classroom():
    # Studying is worth 0.4 per round it counts in, cheating at least 0.5 now: a 2-round planner studies while two
    # rounds remain, and the principal can make it study in every round but the last (the forecasting optimum).
    game = classroom(horizon=5)
    result = solve(game, agent=Lookahead(2))
    assert result.principal_value == pytest.approx(4.0) and result.effort[:, 1].tolist() == [1, 1, 1, 1, 0]
    assert solve(game, agent="myopic").principal_value == pytest.approx(0.0)
    reference = reference_values("stratgym/StatefulPrincipal-v0", {"game": game, "agent": Lookahead(2)})
    assert reference.optimum == pytest.approx(result.principal_value)


def test_lookahead_respond_is_respond_in_round_and_quantal_at_infinity():
    game, rng = _game(3, max_horizon=4)
    rule, state = rng.dirichlet(np.ones(game.n_features)), rng.uniform(0, 2, game.n_efforts)
    for k in (1, 2, None):
        effort = Lookahead(k).respond(game, rule, state, 0, rng)
        np.testing.assert_array_equal(effort, respond_in_round(game, Lookahead(k), rule, state, 0).effort[0])
        np.testing.assert_array_equal(effort, Quantal(np.inf, k).respond(game, rule, state, 0, rng))
    sub = game.replace(horizon=min(2, game.horizon))
    np.testing.assert_allclose(Quantal(1.0, 2).marginal_values(game, rule, game.initial_state, 0),
                               marginal_values(sub, np.tile(rule, (sub.horizon, 1)))[0])


# ---------------------------------------------------------------------------------------------
# No exact method
# ---------------------------------------------------------------------------------------------

class _Model:
    """Stands in for a trained SB3 model (only ``predict`` is needed to wrap it)."""

    def predict(self, observation, deterministic=True):
        return np.zeros(1), None


@pytest.mark.parametrize("agent, name", [(Quantal(1.0), "quantal"), (Quantal(2.0, 1), "quantal"),
                                         (Learned(_Model()), "learned"), (Learning(), "learning")])
def test_solvers_raise_no_exact_method_error_naming_the_behaviour(agent, name):
    game = classroom(horizon=3)
    for call in (lambda: solve(game, agent=agent), lambda: solve(game, agent=agent, method="milp"),
                 lambda: solve(classroom(2, conversion="sqrt"), agent=agent),
                 lambda: optimal_scheme(prosecutor(), agent=agent)):
        with pytest.raises(NoExactMethodError, match=name):
            call()
    assert issubclass(NoExactMethodError, ValueError) and results.NoExactMethodError is NoExactMethodError


def test_other_exact_solvers_and_references_refuse_what_they_cannot_solve():
    with pytest.raises(NoExactMethodError, match="quantal"):
        optimal_scheme(prosecutor(), agent=Quantal(3.0))
    with pytest.raises(NoExactMethodError, match="QuantalFollower"):
        solve_matrix(conitzer_sandholm(), agent=QuantalFollower(2.0))
    assert solve_matrix(conitzer_sandholm(), agent=Rational()).principal_value == \
        pytest.approx(solve_matrix(conitzer_sandholm()).principal_value)
    with pytest.raises(NoExactReference, match="quantal"):
        reference_values("stratgym/PersuasionScheme-v0", {"game": prosecutor(), "agent": Quantal(2.0)})
    with pytest.raises(NoExactReference, match="quantal"):
        reference_values("stratgym/StatefulCommitment-v0", {"agent": Quantal(2.0)})
    assert issubclass(NoExactReference, NoExactMethodError)


# ---------------------------------------------------------------------------------------------
# Deprecated argument names, and arguments given twice
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env_id, old, value", [
    ("stratgym/StatefulPrincipal-v0", "response_model", "forecasting"),
    ("stratgym/StatefulCommitment-v0", "response_model", "myopic"),
    ("stratgym/StatefulPopulation-v0", "response_model", "myopic"),
    ("stratgym/PersuasionScheme-v0", "agent_beta", 2.0),
    ("stratgym/PersuasionRecommend-v0", "receiver", QuantalReceiver(0.5)),
    ("stratgym/MatrixCommitment-v0", "follower", QuantalFollower(1.0)),
])
def test_deprecated_argument_names_warn_and_still_work(env_id, old, value):
    with pytest.deprecated_call(match=f"{old}= is deprecated"):
        env = gym.make(env_id, **{old: value})
    assert env.unwrapped.agent == as_behaviour(value)
    with pytest.deprecated_call(match=f"{old}="):
        vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **{old: value})
    vector.close()
    with pytest.raises(ValueError, match="given twice"):
        gym.make(env_id, **{old: value, "agent": value})


def test_the_solvers_deprecated_argument_warns_and_still_works():
    game = classroom(horizon=3)
    with pytest.deprecated_call(match="response_model= is deprecated"):
        result = solve(game, response_model="myopic")
    assert result.agent == Lookahead(1) and result.principal_value == solve(game, "myopic").principal_value


def test_the_old_classes_are_the_objects():
    from stratgym.agents.freeze import AgentPolicyReceiver, AgentPolicyResponse
    from stratgym.agents.responses import LookaheadResponse, QuantalResponse
    from stratgym.envs.persuasion import LearnedReceiver
    from stratgym.envs.stateful import LearnedResponse, PerRoundResponse

    assert LookaheadResponse(2) == Lookahead(2) and QuantalResponse(1.0, lookahead=3) == Quantal(1.0, 3)
    assert PerRoundResponse("myopic") == Lookahead(1)
    assert AgentPolicyResponse is LearnedResponse and AgentPolicyReceiver is LearnedReceiver


# ---------------------------------------------------------------------------------------------
# Bad input, at construction, naming the parameter
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build, name", [
    (lambda: Lookahead(0), "k"), (lambda: Lookahead(-3), "k"), (lambda: Lookahead(1.5), "k"),
    (lambda: Lookahead(True), "k"), (lambda: Lookahead("2"), "k"),
    (lambda: Quantal(-1.0), "beta"), (lambda: Quantal(float("nan")), "beta"), (lambda: Quantal("high"), "beta"),
    (lambda: Quantal(1.0, 0), "k"), (lambda: Quantal(1.0, 2.5), "k"),
    (lambda: Learning(beta=-0.5), "beta"), (lambda: Learning(beta=float("nan")), "beta"),
    (lambda: Learning(initial_values=[np.nan, 0.0]), "initial_values"),
    (lambda: Learned(object()), "model"), (lambda: Learned(_Model(), deterministic="yes"), "deterministic"),
])
def test_bad_parameters_raise_at_construction_naming_them(build, name):
    with pytest.raises(ValueError, match=rf"^{name}\b|\b{name} "):
        build()


@pytest.mark.parametrize("env_id, agent", [
    ("stratgym/StatefulPrincipal-v0", "rational"), ("stratgym/StatefulPrincipal-v0", Bayesian()),
    ("stratgym/StatefulCommitment-v0", 3.0), ("stratgym/StatefulPopulation-v0", Quantal(1.0)),
    ("stratgym/PersuasionScheme-v0", Lookahead(1)), ("stratgym/PersuasionScheme-v0", Quantal(1.0, 2)),
    ("stratgym/PersuasionRecommend-v0", Bayesian()), ("stratgym/MatrixCommitment-v0", Lookahead(1)),
    ("stratgym/PersuasionPopulation-v0", Quantal(1.0)),
])
def test_envs_refuse_a_behaviour_of_another_game_naming_the_agent(env_id, agent):
    with pytest.raises(ValueError, match="agent"):
        gym.make(env_id, agent=agent)


def test_behaviours_are_values():
    for agent in (Rational(), Lookahead(2), Quantal(1.5, 2), Bayesian(), Learning(0.5, (0.0, 1.0))):
        assert pickle.loads(pickle.dumps(agent)) == agent and hash(agent) == hash(copy.deepcopy(agent))
    model = _Model()
    learned = Learned(model)
    assert copy.deepcopy(learned).model is model and copy.deepcopy(learned) == learned


def test_a_learned_agent_plays_through_the_envs_adapter():
    from stratgym.envs.stateful import agent_effort

    class Studier:
        """An agent model (StatefulAgent-v0's action space) that always studies."""

        def __init__(self, game):
            self.observation_space = gym.make("stratgym/StatefulAgent-v0", game=game).observation_space

        def predict(self, observation, deterministic=True):
            return np.array([-1.0, 1.0, -1.0, -1.0], dtype=np.float32), None

    game = classroom(horizon=3)
    env = gym.make("stratgym/StatefulPrincipal-v0", game=game, agent=Learned(Studier(game)))
    env.reset(seed=0)
    info = env.step(np.zeros(2, dtype=np.float32))[4]
    np.testing.assert_array_equal(info["effort"], agent_effort(game, np.array([-1.0, 1.0, -1.0, -1.0])))
    assert box_to_simplex(np.array([-1.0, 1.0, -1.0, -1.0]))[1] == 1.0
