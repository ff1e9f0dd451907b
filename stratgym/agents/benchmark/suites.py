"""The benchmark suites: named suites from the family registry, custom suites, and overrides."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from stratgym.agents.random_suite import N_EVAL_EPISODES, random_instances
from stratgym.games.validation import as_positive_int
from stratgym.registry import BenchmarkEnv, env_entry, families


@dataclass(frozen=True)
class Suite:
    """A set of env instances, seeds and evaluation settings.

    Attributes:
        name: suite name (default output folder ``results/benchmark/<name>``).
        envs: the env instances.
        seeds: training seeds (one run per env, learner and seed).
        n_eval_episodes: evaluation episodes (seeded ``EVAL_SEED + i``) for the final score and each curve
            point, unless an env sets its own.
        n_curve_points: evaluations during training (besides the one at step 0).
        timestep_scale: factor on the hyperparameter files' ``n_timesteps`` (envs without their own budget).
    """

    name: str
    envs: tuple[BenchmarkEnv, ...]
    seeds: tuple[int, ...] = (0, 1)
    n_eval_episodes: int = 5
    n_curve_points: int = 8
    timestep_scale: float = 1.0


BOX_LEARNERS = ("ppo", "sac", "td3", "a2c")
DISCRETE_LEARNERS = ("ppo", "dqn", "a2c")


def suite_rows(suite_name: str) -> tuple[BenchmarkEnv, ...]:
    """The rows every family declares for ``suite_name`` in the registry (``benchmarks``), in family order.

    ``"full"``: the default rows with every learner that fits each env (:data:`DISCRETE_LEARNERS` on the envs the
    registry declares ``discrete``, else :data:`BOX_LEARNERS`) and the learner files' budgets, then the families'
    extra ``"full"`` rows, with the same learners.
    """
    def rows(name: str) -> list[BenchmarkEnv]:
        return [row for family in families().values() for row in family.benchmarks.get(name, ())]

    if suite_name != "full":
        return tuple(rows(suite_name))

    def every_learner(row: BenchmarkEnv) -> BenchmarkEnv:
        return replace(row, learners=DISCRETE_LEARNERS if env_entry(row.env_id).discrete else BOX_LEARNERS)

    return tuple([replace(every_learner(row), n_timesteps=None) for row in rows("default")]
                 + [every_learner(row) for row in rows("full")])


#: The ``random`` suite's instances (:mod:`stratgym.agents.random_suite`): PPO, the hyperparameter files' budgets.
_RANDOM_ENVS = tuple(BenchmarkEnv(label, family.env_id, family.instance_kwargs(seed), train_env_kwargs=training)
                     for label, family, seed, training in random_instances())

#: The named suites: ``quick`` (the demo: PPO on every env, small budgets, 2 seeds, a few minutes on 2
#: cores), ``default`` (PPO and an off-policy learner, 3 seeds, about 40 minutes on 2 cores), ``full`` (every
#: learner that fits each env, more instances, three times the budgets, 5 seeds), ``random`` (PPO on seeded random
#: instances of every principal env that discriminate, one seed each; its headline is the distribution over instances).
#: The rows of the first three come from the family registry (:func:`suite_rows`).
SUITES: dict[str, Suite] = {
    "quick": Suite("quick", suite_rows("quick"), seeds=(0, 1), n_eval_episodes=5, n_curve_points=8),
    "default": Suite("default", suite_rows("default"), seeds=(0, 1, 2), n_eval_episodes=10, n_curve_points=10),
    "full": Suite("full", suite_rows("full"), seeds=(0, 1, 2, 3, 4), n_eval_episodes=20, n_curve_points=20,
                  timestep_scale=3.0),
    "random": Suite("random", _RANDOM_ENVS, seeds=(0,), n_eval_episodes=N_EVAL_EPISODES, n_curve_points=5),
}


def custom_suite(env_ids: Sequence[str], env_kwargs: dict[str, Any] | None = None, learners: Sequence[str] = ("ppo",),
                 n_seeds: int = 2, n_timesteps: int | None = None, n_eval_episodes: int = 5) -> Suite:
    """A suite of explicit env ids, each with the same ``env_kwargs``, learners and budget."""
    if not env_ids:
        raise ValueError("env_ids must name at least one env")
    if len(set(env_ids)) != len(env_ids):
        raise ValueError(f"env_ids must not repeat, got {list(env_ids)}")
    envs = tuple(BenchmarkEnv(env_id.split("/")[-1], env_id, dict(env_kwargs or {}), tuple(learners), n_timesteps)
                 for env_id in env_ids)
    return Suite("custom", envs, seeds=tuple(range(as_positive_int(n_seeds, "seeds"))),
                 n_eval_episodes=as_positive_int(n_eval_episodes, "eval episodes"))


def adjust_suite(suite: Suite, learners: Sequence[str] | None = None, n_seeds: int | None = None,
                 n_timesteps: int | None = None, n_eval_episodes: int | None = None) -> Suite:
    """``suite`` with some settings overridden (``None`` keeps the suite's)."""
    envs = tuple(replace(env, learners=tuple(learners) if learners else env.learners,
                         n_timesteps=n_timesteps if n_timesteps is not None else env.n_timesteps,
                         n_eval_episodes=None if n_eval_episodes is not None else env.n_eval_episodes)
                 for env in suite.envs)
    return replace(suite, envs=envs,
                   seeds=tuple(range(as_positive_int(n_seeds, "seeds"))) if n_seeds is not None else suite.seeds,
                   n_eval_episodes=as_positive_int(n_eval_episodes, "eval episodes") if n_eval_episodes is not None
                   else suite.n_eval_episodes)


def describe_suites() -> str:
    """One paragraph per named suite: its seeds and each env instance with its learners (for ``--help``)."""
    paragraphs = []
    for suite in SUITES.values():
        envs = "; ".join(f"{env.label} = {env.env_id.split('/')[-1]} ({', '.join(env.learners)})" for env in suite.envs)
        paragraphs.append(f"Suite {suite.name} ({len(suite.seeds)} seeds): {envs}.")
    return " ".join(paragraphs)
