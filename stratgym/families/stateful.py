"""The stateful game's family entry: Harris, Heidari and Wu, "Stateful Strategic Regression" (NeurIPS 2021).

Modules: :mod:`stratgym.games.stateful` (the game), :mod:`stratgym.baselines.stateful` (exact solvers and reference
rules), :mod:`stratgym.envs.stateful` (three envs and their vector versions), :mod:`stratgym.games.behaviour`
(the agents: Rational, Lookahead, Quantal, Learned), :mod:`stratgym.agents.references.stateful` (what the envs are
scored against).
"""

from stratgym.registry import BenchmarkEnv, EnvEntry, Family, targets

#: The random stateful instance used in the suites: 3 features, 4 effort types, T = 4, where the dynamic
#: optimum (1.565) beats the best constant rule (1.310), the one-round rule repeated (0.452) and uniform (0.197).
RANDOM_STATEFUL = {"name": "random", "seed": 132, "horizon": 4, "n_features": 3, "n_efforts": 4}

_REFERENCES = "stratgym.agents.references.stateful"
_PRINCIPAL_BASELINES = "best constant rule, one-round rule repeated and uniform rule"

FAMILY = Family(
    name="stateful",
    title="stateful strategic regression (Harris, Heidari, Wu, NeurIPS 2021): a principal scores an agent over T "
          "rounds; effort accumulates in the agent's state",
    game="stratgym.games.stateful:StatefulGame",
    instances=targets("stratgym.games.stateful", "classroom", "classroom_project", random="random_game"),
    envs=(
        EnvEntry("stratgym/StatefulCommitment-v0", "stratgym.envs.stateful:StatefulCommitmentEnv", "principal",
                 "stateful game: the principal commits to a whole assessment policy; a rational agent best-responds",
                 f"{_REFERENCES}:principal_reference",
                 "baselines.stateful.solve(game, agent=agent): exact MILP (rational) / per-round optimum (linear g)",
                 _PRINCIPAL_BASELINES,
                 vector_entry_point="stratgym.envs.stateful:StatefulCommitmentVectorEnv"),
        EnvEntry("stratgym/StatefulPrincipal-v0", "stratgym.envs.stateful:StatefulPrincipalEnv", "principal",
                 "stateful game, round by round: the principal publishes one rule per round to a myopic/forecasting "
                 "agent", f"{_REFERENCES}:principal_reference",
                 "baselines.stateful.solve(game, agent=agent): exact per-round optimum (linear g)",
                 _PRINCIPAL_BASELINES,
                 vector_entry_point="stratgym.envs.stateful:StatefulPrincipalVectorEnv",
                 frozen_as="its on-path plan is the principal= of StatefulAgent-v0 (agents.freeze.principal_plan)"),
        EnvEntry("stratgym/StatefulAgent-v0", "stratgym.envs.stateful:StatefulAgentEnv", "agent",
                 "stateful game, round by round: the agent spends its effort budget against a principal plan",
                 f"{_REFERENCES}:agent_reference",
                 "games.stateful.best_response(game, plan, 'rational'): exact best response",
                 "the myopic, forecasting and no-effort agents",
                 vector_entry_point="stratgym.envs.stateful:StatefulAgentVectorEnv",
                 frozen_as="the agent= of both principal envs (games.behaviour.Learned)"),
    ),
    # The agent= of the principal envs ({"name": "quantal", "beta": 5, "k": 1}); response_model= is its deprecated
    # name, whose JSON keeps the previous keyword ("lookahead").
    behaviours={"agent": targets("stratgym.games.behaviour", rational="Rational", lookahead="Lookahead",
                                 quantal="Quantal"),
                "response_model": targets("stratgym.agents.responses", quantal="QuantalResponse",
                                          lookahead="LookaheadResponse")},
    # Budgets (measured, BENCHMARKS.md): on the classroom principal envs the uniform rule every policy starts
    # from is already optimal, so they get a token budget; SAC needs ~12k steps on commitment-random132 (8k:
    # stuck at the best constant rule) and levels off at 94.5% from ~12k on agent-classroom.
    benchmarks={
        "quick": (
            BenchmarkEnv("commitment-random132", "stratgym/StatefulCommitment-v0", {"game": RANDOM_STATEFUL},
                         n_timesteps=8000),
            BenchmarkEnv("principal-random132-forecasting", "stratgym/StatefulPrincipal-v0",
                         {"game": RANDOM_STATEFUL, "response_model": "forecasting"}, n_timesteps=8000),
            BenchmarkEnv("agent-classroom", "stratgym/StatefulAgent-v0", {"game": "classroom"}, n_timesteps=8000),
        ),
        "default": (
            BenchmarkEnv("commitment-classroom", "stratgym/StatefulCommitment-v0", {"game": "classroom"},
                         ("ppo", "sac"), n_timesteps=2000),
            BenchmarkEnv("commitment-random132", "stratgym/StatefulCommitment-v0", {"game": RANDOM_STATEFUL},
                         ("ppo", "sac"), n_timesteps=16000),
            BenchmarkEnv("principal-classroom-forecasting", "stratgym/StatefulPrincipal-v0",
                         {"game": "classroom", "response_model": "forecasting"}, ("ppo", "sac"), n_timesteps=2000),
            BenchmarkEnv("principal-random132-forecasting", "stratgym/StatefulPrincipal-v0",
                         {"game": RANDOM_STATEFUL, "response_model": "forecasting"}, ("ppo", "sac"), n_timesteps=8000),
            BenchmarkEnv("agent-classroom", "stratgym/StatefulAgent-v0", {"game": "classroom"}, ("ppo", "sac"),
                         n_timesteps=20000),
        ),
        "full": (
            BenchmarkEnv("principal-random132-myopic", "stratgym/StatefulPrincipal-v0",
                         {"game": RANDOM_STATEFUL, "response_model": "myopic"}),
            BenchmarkEnv("agent-random132", "stratgym/StatefulAgent-v0", {"game": RANDOM_STATEFUL}),
        ),
    },
    alternation=("stratgym/StatefulPrincipal-v0", "stratgym/StatefulAgent-v0"),
)
