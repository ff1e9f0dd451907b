"""Gymnasium environments of the stratgym games, registered under the ``stratgym/`` namespace.

``import stratgym`` registers them; ``gym.make("stratgym/<Name>-v0", game=...)`` then builds one for
any game instance. What is registered comes from the family registry (:mod:`stratgym.registry`), whose entry
points are strings, so registering imports no environment code.
"""

from __future__ import annotations

import gymnasium as gym

from stratgym.registry import EnvTable, env_entries

#: id -> (entry point, registration keyword arguments): a live view of the registry's envs. Episodes of the stateful
#: round-by-round envs end by termination after the game's T rounds; the repeated persuasion env has no natural end,
#: so its registered time limit truncates it.
ENVIRONMENTS = EnvTable(lambda entry: (entry.entry_point, entry.registration_kwargs()))


def register_envs() -> None:
    """Register every env of the family registry with Gymnasium (idempotent)."""
    for env_id, entry in env_entries().items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry.entry_point, **entry.registration_kwargs())


register_envs()
