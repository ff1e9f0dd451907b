"""The family registry: every game family of stratgym declared in one place.

A *family* is one game (the stateful game, Bayesian persuasion, Stackelberg matrix games) with everything
built on it: its game type and named instances, its Gymnasium envs (entry point, vector entry point, the
side that learns, a one-line description, discrete or Box actions), the reference solver and baselines each
env is scored against, the behaviour models its envs accept by name, and its rows in the benchmark suites.
Each family declares these in ``FAMILY``, a :class:`Family` in its own module of :mod:`stratgym.families`,
and :data:`FAMILY_MODULES` lists those modules: adding a family is its own modules plus one line there.

Everything else reads the registry: env registration (:func:`stratgym.envs.register_envs`), ``stratgym
list`` and the CLI's help, the game names of ``--env-kwargs`` (:mod:`stratgym.agents.instances`), the
reference values (:mod:`stratgym.agents.references`), the benchmark suites
(:mod:`stratgym.agents.benchmark`) and the freeze wiring (:mod:`stratgym.agents.freeze`).

Every code reference of the packaged families is a ``"module:name"`` string, loaded on first use (:func:`load`), so
reading the registry imports no game, env or solver: envs can be registered from it although the import direction is
games <- baselines, envs <- agents <- cli. A family added at run time (:func:`register_family`, your own game) may
give the objects themselves (classes, functions) instead of strings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

#: The modules declaring the families, in display order; each defines ``FAMILY`` (a :class:`Family`).
FAMILY_MODULES = (
    "stratgym.families.stateful",
    "stratgym.families.persuasion",
    "stratgym.families.matrix",
    "stratgym.families.population",
)
#: Who learns in an env.
SIDES = ("principal", "agent")
#: The benchmark suites a family adds rows to (``"full"``: rows on top of the default rows, which the full suite
#: repeats with every learner that fits; see :mod:`stratgym.agents.benchmark`).
SUITE_NAMES = ("quick", "default", "full")


def load(target: str | Callable) -> Any:
    """The object a ``"package.module:name"`` string names (``name`` may be dotted), importing its module; a callable
    (an object given in place of its name) is returned as it is."""
    if callable(target):
        return target
    if not isinstance(target, str) or target.count(":") != 1:
        raise ValueError(f"a registry target must be a 'module:name' string, got {target!r}")
    module_name, name = target.split(":")
    value = importlib.import_module(module_name)
    for part in name.split("."):
        value = getattr(value, part)
    return value


def targets(module: str, *names: str, **renamed: str) -> dict[str, str]:
    """Registry targets of one module: ``{name: "module:name"}`` for each of ``names``, then ``{key: "module:name"}``
    for each ``key=name`` of ``renamed``, in that order (a family's instances or behaviours, written without repeating
    their module)."""
    return {**{name: f"{module}:{name}" for name in names}, **{key: f"{module}:{name}" for key, name in renamed.items()}}


def _check_target(target: str | Callable, what: str) -> None:
    if callable(target):
        return
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise ValueError(f"{what} must be a 'module:name' string or the object itself, got {target!r}")


def _check_targets(targets: Mapping[str, str], what: str) -> None:
    for name, target in targets.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"{what} names must be non-empty strings, got {name!r}")
        _check_target(target, f"{what} {name!r}")


@dataclass(frozen=True)
class EnvEntry:
    """One env of a family.

    Attributes:
        id: the Gymnasium id, ``"stratgym/<Name>-v<k>"``.
        entry_point: ``"module:Class"`` of the scalar env.
        side: who learns in it, ``"principal"`` or ``"agent"``.
        description: one line for ``stratgym list``.
        reference: ``"module:function"``, ``function(env, n_episodes, seed) -> ReferenceValues`` computing the
            optimum and baselines of an env instance (:mod:`stratgym.agents.references`).
        solver: one line naming the reference solver.
        baselines: one line naming the baselines (the CLI's ``solve --help``).
        discrete: whether the action space is ``Discrete`` (the benchmark picks its learners by it).
        vector_entry_point: ``"module:Class"`` of the native vector env, if any.
        max_episode_steps: the registered time limit, if any.
        optimum_name: what the optimum is, for legends ("exact optimum" unless the env has none).
        upper_bound: whether the optimum bounds every policy's expected return.
        frozen_as: one line: where a model trained in this env plugs in as an opponent (``""``: nowhere).
        metrics: ``"module:function"``, ``function(policy, env, n_episodes, seed) -> {name: value}``: the social
            metrics (:mod:`stratgym.games.metrics`, flat) of a policy on the evaluation episodes, reported by the
            benchmark beside the score; ``None``: the env has none.
        hyperparams: learner -> zoo-format hyperparameters (``{"n_timesteps": ..., "policy": ..., ...}``), used when
            the packaged files (``stratgym/agents/hyperparams/<learner>.yml``) have no entry for this env: your own
            game's defaults.
    """

    id: str
    entry_point: str
    side: str
    description: str
    reference: str
    solver: str
    baselines: str
    discrete: bool = False
    vector_entry_point: str | None = None
    max_episode_steps: int | None = None
    optimum_name: str = "exact optimum"
    upper_bound: bool = True
    frozen_as: str = ""
    metrics: str | Callable | None = None
    hyperparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id.startswith("stratgym/") or "-v" not in self.id:
            raise ValueError(f"id must be 'stratgym/<Name>-v<k>', got {self.id!r}")
        if self.side not in SIDES:
            raise ValueError(f"side of {self.id} must be one of {SIDES}, got {self.side!r}")
        _check_target(self.entry_point, f"entry_point of {self.id}")
        _check_target(self.reference, f"reference of {self.id}")
        if self.vector_entry_point is not None:
            _check_target(self.vector_entry_point, f"vector_entry_point of {self.id}")
        if self.metrics is not None:
            _check_target(self.metrics, f"metrics of {self.id}")
        if self.max_episode_steps is not None and (not isinstance(self.max_episode_steps, int)
                                                   or self.max_episode_steps < 1):
            raise ValueError(f"max_episode_steps of {self.id} must be None or an int >= 1, got {self.max_episode_steps!r}")
        if not isinstance(self.hyperparams, Mapping) or not all(
                isinstance(learner, str) and isinstance(entry, Mapping) for learner, entry in self.hyperparams.items()):
            raise ValueError(f"hyperparams of {self.id} must map learner names to mappings, got {self.hyperparams!r}")

    @property
    def name(self) -> str:
        """The id without the ``stratgym/`` namespace, e.g. ``"MatrixCommitment-v0"``."""
        return self.id.split("/", 1)[1]

    def registration_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``gymnasium.register`` besides ``id`` and ``entry_point``."""
        kwargs: dict[str, Any] = {}
        if self.vector_entry_point is not None:
            kwargs["vector_entry_point"] = self.vector_entry_point
        if self.max_episode_steps is not None:
            kwargs["max_episode_steps"] = self.max_episode_steps
        return kwargs


@dataclass(frozen=True)
class BenchmarkEnv:
    """One env instance of a benchmark suite.

    Attributes:
        label: unique, filesystem-safe name used in file names and tables.
        env_id: registered env id.
        env_kwargs: JSON-style env kwargs (see :mod:`stratgym.agents.instances`).
        learners: algorithm names; those that do not fit the env's action space are an error.
        n_timesteps: training budget per run; ``None``: the hyperparameter file's ``n_timesteps``.
        n_eval_episodes: evaluation episodes; ``None``: the suite's (one-step envs with random outcomes
            need more episodes for the same precision, and they are cheap).
        train_env_kwargs: kwargs added to ``env_kwargs`` for training only (evaluations, learning curves and
            references use ``env_kwargs``), e.g. ``{"reward": "penalized"}`` on ``PersuasionScheme-v0``.
    """

    label: str
    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    learners: tuple[str, ...] = ("ppo",)
    n_timesteps: int | None = None
    n_eval_episodes: int | None = None
    train_env_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Family:
    """Everything stratgym knows about one game family (see the module docstring).

    Attributes:
        name: short name, e.g. ``"matrix"`` (``build_game(name, ...)``, ``stratgym list``).
        title: one line for ``stratgym list``.
        game: ``"module:Class"`` of the game's parameter object (``"game"`` of ``--env-kwargs`` with fields).
        instances: instance name -> ``"module:function"`` returning a game; a function with an ``rng``
            parameter gets ``numpy.random.default_rng(seed)`` (``{"name": ..., "seed": k}``, default 0).
        envs: the family's envs.
        behaviours: env argument -> {name: ``"module:Class"``}: the behaviour models (agents, receivers,
            followers) a JSON object ``{"name": ..., **arguments}`` may name for that argument.
        game_fields: game field -> ``"module:function"`` turning its JSON value into the object the game takes
            (e.g. the persuasion prior).
        named_policies: name -> ``"module:function"``: principal policies computed by a solver that the family's
            agent env accepts by name (an env imports no solver); registered with ``register_policy``.
        register_policy: ``"module:function"``, ``function(name, builder)`` of the env module taking them.
        benchmarks: suite name (:data:`SUITE_NAMES`) -> the family's rows in that suite.
        alternation: ``(principal env id, agent env id)`` trained in turn by :func:`stratgym.agents.freeze.alternate`.
    """

    name: str
    title: str
    game: str
    instances: Mapping[str, str]
    envs: tuple[EnvEntry, ...]
    behaviours: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    game_fields: Mapping[str, str] = field(default_factory=dict)
    named_policies: Mapping[str, str] = field(default_factory=dict)
    register_policy: str | None = None
    benchmarks: Mapping[str, tuple[BenchmarkEnv, ...]] = field(default_factory=dict)
    alternation: tuple[str, str] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"family name must be an identifier, got {self.name!r}")
        _check_target(self.game, f"game of family {self.name!r}")
        _check_targets(self.instances, f"{self.name} instance")
        _check_targets(self.game_fields, f"{self.name} game field")
        _check_targets(self.named_policies, f"{self.name} named policy")
        for argument, models in self.behaviours.items():
            _check_targets(models, f"{self.name} behaviour {argument!r}")
        if not self.envs or not all(isinstance(entry, EnvEntry) for entry in self.envs):
            raise ValueError(f"envs of family {self.name!r} must be a non-empty tuple of EnvEntry")
        ids = [entry.id for entry in self.envs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"env ids of family {self.name!r} repeat: {ids}")
        if self.named_policies and self.register_policy is None:
            raise ValueError(f"family {self.name!r} has named_policies but no register_policy")
        if self.register_policy is not None:
            _check_target(self.register_policy, f"register_policy of family {self.name!r}")
        unknown = set(self.benchmarks) - set(SUITE_NAMES)
        if unknown:
            raise ValueError(f"benchmarks of family {self.name!r} name unknown suites {sorted(unknown)}; "
                             f"suites are {SUITE_NAMES}")
        for rows in self.benchmarks.values():
            for row in rows:
                if row.env_id not in ids:
                    raise ValueError(f"benchmark row {row.label!r} of family {self.name!r} uses {row.env_id}, "
                                     f"which is not one of its envs {ids}")
        if self.alternation is not None and not set(self.alternation) <= set(ids):
            raise ValueError(f"alternation of family {self.name!r} must name two of its envs, got {self.alternation}")

    def env(self, env_id: str) -> EnvEntry:
        """The entry of ``env_id`` in this family; ``ValueError`` otherwise."""
        for entry in self.envs:
            if entry.id == env_id:
                return entry
        raise ValueError(f"family {self.name!r} has no env {env_id!r}; its envs are {[e.id for e in self.envs]}")


_FAMILIES: dict[str, Family] = {}


def families() -> dict[str, Family]:
    """Every registered family by name, in display order (the modules of :data:`FAMILY_MODULES` are imported on the
    first call; they hold strings only)."""
    if not _FAMILIES:
        for module_name in FAMILY_MODULES:
            _add(importlib.import_module(module_name).FAMILY)
    return _FAMILIES


def _add(family: Family) -> None:
    if not isinstance(family, Family):
        raise ValueError(f"family must be a stratgym.registry.Family, got {type(family).__name__}")
    if family.name in _FAMILIES:
        raise ValueError(f"a family named {family.name!r} is already registered")
    taken = {entry.id for known in _FAMILIES.values() for entry in known.envs}
    clashes = sorted(taken & {entry.id for entry in family.envs})
    if clashes:
        raise ValueError(f"env ids {clashes} of family {family.name!r} belong to another family")
    _FAMILIES[family.name] = family


def register_family(family: Family) -> None:
    """Add a family at run time (your own game) and register its envs with Gymnasium."""
    families()
    _add(family)
    from stratgym.envs import register_envs  # here, not at the top: the envs package reads this module

    register_envs()


def family(name: str) -> Family:
    """The family called ``name``; ``ValueError`` listing the known ones otherwise."""
    known = families()
    if name not in known:
        raise ValueError(f"no game family {name!r}; families are {sorted(known)}")
    return known[name]


def env_entries() -> dict[str, EnvEntry]:
    """Every env of every family: id -> :class:`EnvEntry`, in display order."""
    return {entry.id: entry for known in families().values() for entry in known.envs}


class EnvTable(Mapping):
    """A read-only, live view of the registry's envs: env id -> ``value(entry)`` (for tables kept by name, e.g.
    :data:`stratgym.envs.ENVIRONMENTS`); families added later appear in it."""

    def __init__(self, value: Callable[[EnvEntry], Any]):
        self._value = value

    def __getitem__(self, env_id: str) -> Any:
        entry = env_entries().get(env_id)
        if entry is None:
            raise KeyError(env_id)
        return self._value(entry)

    def __iter__(self) -> Iterator[str]:
        return iter(env_entries())

    def __len__(self) -> int:
        return len(env_entries())


def family_of(env_id: str) -> Family:
    """The family an env id belongs to; ``ValueError`` listing the stratgym envs otherwise."""
    for known in families().values():
        if any(entry.id == env_id for entry in known.envs):
            return known
    raise ValueError(f"env id {env_id!r} belongs to no stratgym game family; stratgym envs are {sorted(env_entries())}")


def env_entry(env_id: str) -> EnvEntry:
    """The :class:`EnvEntry` of ``env_id``; ``ValueError`` listing the stratgym envs otherwise."""
    return family_of(env_id).env(env_id)
