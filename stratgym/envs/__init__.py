"""Gymnasium environments of the stratgym games, registered under the ``stratgym/`` namespace.

``import stratgym`` registers them; ``gym.make("stratgym/<Name>-v0", game=...)`` then builds one for
any game instance. Entry points are strings, so registering imports no environment code.
"""

from __future__ import annotations

import gymnasium as gym

#: id -> (entry point, registration keyword arguments). Episodes of the stateful round-by-round
#: envs end by termination after the game's T rounds; the repeated persuasion env has no natural end,
#: so its registered time limit truncates it.
ENVIRONMENTS = {
    "stratgym/StatefulCommitment-v0": ("stratgym.envs.stateful:StatefulCommitmentEnv",
                                       {"vector_entry_point": "stratgym.envs.stateful:StatefulCommitmentVectorEnv"}),
    "stratgym/StatefulPrincipal-v0": ("stratgym.envs.stateful:StatefulPrincipalEnv",
                                      {"vector_entry_point": "stratgym.envs.stateful:StatefulPrincipalVectorEnv"}),
    "stratgym/StatefulAgent-v0": ("stratgym.envs.stateful:StatefulAgentEnv",
                                  {"vector_entry_point": "stratgym.envs.stateful:StatefulAgentVectorEnv"}),
    "stratgym/PersuasionScheme-v0": ("stratgym.envs.persuasion:PersuasionSchemeEnv", {}),
    "stratgym/PersuasionRecommend-v0": ("stratgym.envs.persuasion:PersuasionRecommendEnv", {"max_episode_steps": 100}),
    "stratgym/PersuasionAgent-v0": ("stratgym.envs.persuasion:PersuasionAgentEnv", {}),
    "stratgym/StatefulPopulation-v0": ("stratgym.envs.population:StatefulPopulationEnv", {}),
    "stratgym/PersuasionPopulation-v0": ("stratgym.envs.population:PersuasionPopulationEnv", {}),
}


def register_envs() -> None:
    """Register every stratgym environment (idempotent)."""
    for env_id, (entry_point, kwargs) in ENVIRONMENTS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, **kwargs)


register_envs()
