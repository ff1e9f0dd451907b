"""The two-sided runner on tiny budgets (a few hundred rounds): the documented result fields, each schedule's update
pattern, determinism under a seed, the exact evaluation of what the two learners ended at, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from stratgym.agents.twosided import SCHEDULES, TwoSidedResult, main, train_two_sided
from stratgym.games.matrix import conitzer_sandholm, security_game
from stratgym.games.stateful import classroom

FIELDS = {"game", "moves", "schedule", "agent_learner", "seed", "rounds", "principal_value", "optimum", "value_ratio",
          "agent_value", "agent_best_value", "agent_regret", "principal_regret", "references", "nearest_reference",
          "verdict", "curve", "updates", "wall_time"}


def _run(**kwargs) -> TwoSidedResult:
    return train_two_sided(**dict(dict(rounds=192, n_steps=32), **kwargs))


@pytest.mark.parametrize("game", ["persuasion_v0", "stateful_v0", "matrix_v0"])
@pytest.mark.parametrize("moves", ["sequential", "simultaneous"])
def test_a_tiny_run_returns_the_documented_fields(game, moves):
    instance = {"stateful_v0": classroom(horizon=3), "matrix_v0": conitzer_sandholm()}.get(game)
    result = _run(game=game, instance=instance, moves=moves)
    assert set(result.to_json()) == FIELDS
    assert result.value_ratio == pytest.approx(result.principal_value / result.optimum)
    assert result.agent_regret == pytest.approx(result.agent_best_value - result.agent_value)
    assert result.agent_regret >= -1e-9 and result.principal_regret >= 0.0
    assert result.nearest_reference in set(result.references) | {"Stackelberg optimum"}
    assert result.verdict.startswith(("Stackelberg optimum", "not converged", "Nash equilibrium below the optimum",
                                      "below the optimum, the agent best-responding"))
    assert result.curve and result.curve[-1][0] <= 192
    # classroom(3): T - 1; prosecutor(): 0.6; conitzer_sandholm(): 3.5 (commit to (1/2, 1/2))
    expected_optimum = {"stateful_v0": 2.0, "persuasion_v0": 0.6, "matrix_v0": 3.5}[game]
    assert result.optimum == pytest.approx(expected_optimum)


@pytest.mark.parametrize("schedule, principal_updates, agent_updates", [
    ("simultaneous", 6, 6), ("fast-leader", 6, 1), ("fast-follower", 1, 6), ("alternating", 4, 2)])
def test_each_schedule_updates_as_documented(schedule, principal_updates, agent_updates):
    """Every schedule is covered. 192 rounds of one move each, n_steps=32: 6 fast updates, 192 / (4 * 32) = 1 slow one; alternating with
    phases of 2 updates: principal 2, agent 2, principal 2."""
    assert schedule in SCHEDULES
    result = _run(schedule=schedule, ratio=4, phase_updates=2)
    assert result.updates == {"principal_0": principal_updates, "agent_0": agent_updates}


def test_the_same_seed_gives_the_same_result_and_another_seed_another():
    first, second, other = (_run(game="stateful_v0", instance=classroom(horizon=3), seed=s).to_json() for s in (3, 3, 4))
    for result in (first, second, other):
        result.pop("wall_time")
    assert first == second
    assert first["curve"] != other["curve"]


def test_a_hedge_agent_learns_every_round_and_best_responds_to_a_fixed_principal():
    """With the principal frozen after its first phase, Hedge faces a fixed scheme; its regret is small."""
    result = _run(agent="hedge", schedule="alternating", phase_updates=1, rounds=640)
    assert result.updates["agent_0"] == 640  # a follower learns from every round
    assert result.agent_regret == pytest.approx(0.0, abs=0.05)


def test_a_hedge_follower_of_the_matrix_game_learns_by_type_and_best_responds_to_a_fixed_leader():
    result = _run(game="matrix_v0", instance=security_game(), agent="hedge", schedule="alternating", phase_updates=1,
                  rounds=640)
    assert result.updates["agent_0"] == 640
    assert result.agent_regret == pytest.approx(0.0, abs=0.05 * float(np.ptp(security_game().follower_payoffs)))
    assert result.references["best Nash equilibrium"] == pytest.approx(0.75)


def test_bad_arguments_raise_value_error_naming_them():
    for kwargs, name in [({"schedule": "random"}, "schedule"), ({"moves": "turns"}, "moves"),
                         ({"game": "chess_v0"}, "game"), ({"agent": "dqn"}, "agent"), ({"rounds": 0}, "rounds"),
                         ({"game": "stateful_v0", "agent": "hedge"}, "agent"), ({"n_steps": 1}, "n_steps")]:
        with pytest.raises(ValueError, match=name):
            train_two_sided(**kwargs)


def test_the_cli_prints_the_result_as_json(capsys):
    import json

    assert main(["--rounds", "64", "--n-steps", "32", "--schedule", "fast-leader", "--ratio", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == FIELDS and printed["schedule"] == "fast-leader"
    assert np.isfinite(printed["principal_value"])


@pytest.mark.slow
def test_two_sided_ppo_on_the_prosecutor_ends_at_the_cheap_talk_outcome_not_the_commitment_one():
    """Without commitment the prosecutor's only equilibrium outcome is no information (value 0, not 0.6)."""
    result = train_two_sided("persuasion_v0", rounds=3000, n_steps=64, seed=0)
    assert result.principal_value <= 0.05 and result.agent_regret <= 0.05
    assert result.verdict.startswith("Nash equilibrium below the optimum")


@pytest.mark.slow
def test_two_sided_ppo_on_classroom_project_reaches_the_stackelberg_optimum():
    """There the optimum is incentivizable round by round (it is also the myopic agent's), so learning finds it."""
    result = train_two_sided("stateful_v0", rounds=3000, n_steps=64, seed=0)
    assert result.value_ratio >= 0.95 and result.verdict == "Stackelberg optimum"
