"""Environment keyword arguments from JSON: the scheme behind ``--env-kwargs``.

A JSON object whose keys are passed to the env constructor, except ``"game"``, which is turned into a
game instance of the env's family (its game type in the family registry, :mod:`stratgym.registry`: ``Stateful*``
envs :class:`~stratgym.games.stateful.StatefulGame`, ``Persuasion*`` envs the persuasion game, ...). ``"game"`` may be:

* a name: ``{"game": "classroom"}`` — a named instance with its defaults;
* a name with arguments: ``{"game": {"name": "classroom", "horizon": 3}}``;
* the game's fields: ``{"game": {"conversion_matrix": [[1, 0.4, 0], [0, 0.4, 1]], "retention": [0, 1, 0], ...}}``
  (fields the family declares in ``game_fields`` are built from JSON first: a persuasion ``"prior"`` is
  ``{"mean": [...], "covariance": 0.4}`` or ``{"atoms": [[...]], "probabilities": [...]}``);
* ``{"game": {"name": "random", "seed": 3, "horizon": 4}}`` — an instance drawn at random: named
  instances that take an ``rng`` get ``numpy.random.default_rng(seed)`` (seed 0 if absent); the other
  keys are the instance function's keyword arguments.

The behaviour models a family declares (``behaviours``: the agents of :mod:`stratgym.games.behaviour`, the matrix
game's quantal follower) are named the same way under ``"agent"``, the argument every principal env takes them by:
``{"agent": {"name": "quantal", "beta": 5, "k": 1}}`` or ``{"name": "lookahead", "k": 2}`` (stateful principal envs),
``{"agent": {"name": "quantal", "beta": 2}}`` (``PersuasionScheme-v0``), ``{"agent": {"name": "learning", "beta":
2}}`` (``PersuasionRecommend-v0``). A string (``"myopic"``, ``"forecasting"``, ``"rational"``, ``"bayesian"``) or a
number (a persuasion agent's ``beta``) is the env's own name for a behaviour.

The previous argument names ``response_model``, ``receiver``, ``follower`` and ``agent_beta`` remain keys of this
scheme, with their previous JSON names (``{"response_model": {"name": "quantal", "beta": 5, "lookahead": 1}}``,
``{"receiver": {"name": "quantal", "beta": 2}}``): they are passed to the env as ``agent``, so configurations stored
with them keep their meaning (and the benchmark's run hashes).

Any other key goes to the env unchanged, e.g. ``{"game": {"name": "classroom", "horizon": 3},
"agent": "myopic"}`` or ``{"scheme": "no-information"}``. Values that are already game objects pass through, so resolved kwargs
can be resolved again. The named instances of each family are its registry entry's ``instances`` (``stratgym list``
shows them).
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any, Callable

import gymnasium as gym
import numpy as np

import stratgym  # noqa: F401  (registers the stratgym/ envs)
from stratgym.registry import env_entries, families, family, family_of, load


def env_family(env_id: str) -> str:
    """The name of the game family of a ``stratgym/`` env id (``"stateful"``, ``"persuasion"``, ...; registry lookup)."""
    return family_of(env_id).name


def parse_env_kwargs(text: str | None) -> dict[str, Any]:
    """Parse the JSON text of ``--env-kwargs`` into a dict (``{}`` for ``None`` or empty text)."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--env-kwargs must be a JSON object, e.g. '{{\"game\": \"classroom\"}}' ({error})") from error
    if not isinstance(value, dict):
        raise ValueError(f"--env-kwargs must be a JSON object, got {type(value).__name__}")
    return value


def resolve_env_kwargs(env_id: str, env_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Constructor keyword arguments of ``env_id`` with ``"game"`` turned into a game instance (see module doc)."""
    kwargs = dict(env_kwargs or {})
    if "game" in kwargs:
        kwargs["game"] = build_game(env_family(env_id), kwargs["game"])
    if env_id in env_entries():  # other envs (CartPole, ...) take their kwargs as they are
        owner = family_of(env_id)
        for argument in owner.behaviours:
            if isinstance(kwargs.get(argument), dict):
                kwargs[argument] = build_agent(argument, kwargs[argument], owner.name)
        legacy = [key for key in LEGACY_AGENT_KEYS if key in kwargs]
        if legacy:
            if len(legacy) > 1 or "agent" in kwargs:
                raise ValueError(f"the agent was given twice ({', '.join(['agent'] * ('agent' in kwargs) + legacy)}): "
                                 "give it as 'agent' only")
            kwargs["agent"] = kwargs.pop(legacy[0])
    return kwargs


#: Keys of the previous release that name the env's agent; :func:`resolve_env_kwargs` passes them as ``agent``.
LEGACY_AGENT_KEYS = ("response_model", "receiver", "follower", "agent_beta")


def build_agent(argument: str, spec: dict, family_name: str | None = None):
    """The behaviour model a JSON object names for env argument ``argument`` of family ``family_name`` (its
    registry entry's ``behaviours``; ``None``: the first family that has that argument)."""
    arguments = dict(spec)
    name = arguments.pop("name", None)
    owners = [known for known in families().values() if argument in known.behaviours
              and (family_name is None or known.name == family_name)]
    if not owners:
        raise ValueError(f"no behaviour models are named for argument {argument!r}"
                         + (f" of {family_name} envs" if family_name else ""))
    names = owners[0].behaviours[argument]
    if name not in names:
        raise ValueError(f"{argument} name must be one of {sorted(names)}, got {name!r}")
    return _call(load(names[name]), arguments, f"{argument} {name!r}")


def build_game(family_name: str, spec):
    """A game instance of family ``family_name`` from a JSON ``spec`` (name, name with arguments, or fields); games
    pass through."""
    entry = family(family_name)
    game_class = load(entry.game)
    if isinstance(spec, game_class):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"game must be a name or a JSON object, got {spec!r}")
    arguments = dict(spec)
    name = arguments.pop("name", None)
    if name is None:
        for field_name, builder in entry.game_fields.items():
            if isinstance(arguments.get(field_name), dict):
                arguments[field_name] = load(builder)(arguments[field_name])
        return _call(game_class, arguments, f"{family_name} game fields")
    names = entry.instances
    if name not in names:
        raise ValueError(f"game name must be one of {sorted(names)} for {family_name} envs, got {name!r}")
    factory = load(names[name])
    seed = arguments.pop("seed", None)
    if "rng" in inspect.signature(factory).parameters:
        seed = 0 if seed is None else seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"game seed must be an integer >= 0, got {seed!r}")
        arguments["rng"] = np.random.default_rng(seed)
    elif seed is not None:
        raise ValueError(f"game {name!r} takes no seed")
    return _call(factory, arguments, f"game {name!r}")


def build_prior(spec: dict):
    """A persuasion prior from JSON: ``{"mean", "covariance"}`` (Gaussian) or ``{"atoms", "probabilities"}`` (finite)."""
    from stratgym.games import persuasion as module  # the persuasion family's game_fields entry names this builder

    if "mean" in spec:
        return _call(module.GaussianPrior, spec, "Gaussian prior")
    if "atoms" in spec:
        return _call(module.FiniteSupportPrior, spec, "finite-support prior")
    raise ValueError(f"prior must be {{'mean': [...], 'covariance': s2}} or {{'atoms': [[...]], 'probabilities': [...]}}, "
                     f"got {spec!r}")


def _call(factory: Callable, arguments: dict, what: str, *leading):
    try:
        return factory(*leading, **arguments)
    except TypeError as error:  # unknown or missing keyword: say which instance rejected it
        raise ValueError(f"bad arguments for {what}: {error}") from error


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """``gym.make(env_id, **resolved kwargs)`` on a private deep copy of ``env_kwargs``.

    Each env gets its own copy because kwargs may hold stateful objects (a learning receiver, a response
    model): shared, the parallel training envs and the evaluation env would all feed one receiver and mix
    their episodes. An object that must be shared (a frozen model) says so with ``__deepcopy__``.
    ``ValueError`` for an id that is not registered or an argument the env does not take.
    """
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("stratgym/"))
        raise ValueError(f"env id {env_id!r} is not registered; stratgym envs are {known}")
    try:
        private = copy.deepcopy(env_kwargs or {})
    except (TypeError, RuntimeError, copy.Error) as error:  # e.g. a torch module, an open file
        raise ValueError(f"env_kwargs of {env_id} must be deep-copyable (every env gets its own copy), or define "
                         f"__deepcopy__ to share a read-only part: {error}") from error
    kwargs = resolve_env_kwargs(env_id, private)
    _check_arguments(env_id, kwargs)
    return gym.make(env_id, **kwargs)


def _check_arguments(env_id: str, kwargs: dict[str, Any]) -> None:
    """``ValueError`` naming the keys of ``kwargs`` that neither the env's constructor nor ``gym.make`` takes.

    Checked against the signature up front rather than by catching the constructor's ``TypeError``, which
    would also turn a genuine bug inside the constructor into a misleading "bad argument" message.
    """
    spec = gym.registry[env_id]
    creator = spec.entry_point
    if isinstance(creator, str):
        creator = gym.envs.registration.load_env_creator(creator)
    try:
        parameters = inspect.signature(creator).parameters
    except (TypeError, ValueError):  # no introspectable signature: let the constructor judge
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [name for name, p in parameters.items()
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    make_options = [name for name, p in inspect.signature(gym.make).parameters.items()
                    if name != "id" and p.kind is not inspect.Parameter.VAR_KEYWORD]
    unknown = sorted(set(kwargs) - set(accepted) - set(make_options) - set(spec.kwargs))
    if unknown:
        raise ValueError(f"{env_id} takes no argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"it accepts {', '.join(accepted)} (and gym.make's {', '.join(make_options)})")
