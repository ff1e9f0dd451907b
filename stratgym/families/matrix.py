"""The Stackelberg matrix games' family entry: a leader commits to a mixed strategy, a follower (of a type drawn from
a prior) best-responds, ties to the leader (Conitzer and Sandholm, EC 2006; Bayesian: Paruchuri et al., AAMAS 2008).

Modules: :mod:`stratgym.games.matrix` (the game, its followers and named instances), :mod:`stratgym.baselines.matrix`
(the LP / DOBSS solver, pure and uniform commitments, Nash equilibria), :mod:`stratgym.envs.matrix` (two envs),
:mod:`stratgym.agents.references.matrix` (what the envs are scored against).
"""

from stratgym.registry import BenchmarkEnv, EnvEntry, Family, targets

#: A random Bayesian game of the default suite: 4 rows, 4 columns, 2 follower types, where the optimum (0.792) beats
#: the best pure commitment (0.627), the best Nash equilibrium (0.545) and the uniform commitment (0.299).
RANDOM_BAYESIAN = {"name": "random", "seed": 11, "n_leader_actions": 4, "n_follower_actions": 4, "n_types": 2}

_REFERENCES = "stratgym.agents.references.matrix"


def optimal_commitment(game):
    """The leader's optimal strategy ``(m,)``: ``MatrixFollower-v0``'s ``leader="optimal"``."""
    from stratgym.baselines.matrix import solve  # on first use: the LP stack is slow to import

    return solve(game).theta


FAMILY = Family(
    name="matrix",
    title="Stackelberg matrix games (Conitzer-Sandholm; Bayesian, DOBSS): a leader commits to a mixed strategy, a "
          "follower of a drawn type best-responds",
    game="stratgym.games.matrix:MatrixGame",
    instances=targets("stratgym.games.matrix", "security_game", "conitzer_sandholm", "paruchuri_example",
                      "battle_of_the_sexes", "matching_pennies", random="random_matrix_game",
                      random_security="random_security_game"),
    envs=(
        EnvEntry("stratgym/MatrixCommitment-v0", "stratgym.envs.matrix:MatrixCommitmentEnv", "principal",
                 "matrix game: the leader commits to a mixed strategy; a follower of a drawn type best-responds",
                 f"{_REFERENCES}:commitment_reference",
                 "baselines.matrix.solve(game): exact LP per follower column (one type) / DOBSS-style MILP (several)",
                 "the best pure commitment, the uniform commitment and the best Nash equilibrium",
                 vector_entry_point="stratgym.envs.matrix:MatrixCommitmentVectorEnv"),
        EnvEntry("stratgym/MatrixFollower-v0", "stratgym.envs.matrix:MatrixFollowerEnv", "agent",
                 "matrix game, follower side: see the leader's committed strategy and your type, pick a column",
                 f"{_REFERENCES}:follower_reference",
                 "argmax_j x . B^k[:, j]: the exact best response to the commitment",
                 "a uniformly random column and the leader's favourite column", discrete=True,
                 vector_entry_point="stratgym.envs.matrix:MatrixFollowerVectorEnv"),
    ),
    # The agent= of MatrixCommitment-v0; follower= is its deprecated name.
    behaviours={"agent": {"rational": "stratgym.games.behaviour:Rational",
                          "quantal": "stratgym.games.matrix:QuantalFollower"},
                "follower": {"quantal": "stratgym.games.matrix:QuantalFollower"}},
    named_policies={"optimal": "stratgym.families.matrix:optimal_commitment"},
    register_policy="stratgym.envs.matrix:register_leader",
    benchmarks={
        "quick": (
            BenchmarkEnv("matrix-commitment-security", "stratgym/MatrixCommitment-v0", {}, n_timesteps=8000),
            BenchmarkEnv("matrix-follower-security", "stratgym/MatrixFollower-v0", {}, n_timesteps=4000),
        ),
        "default": (
            BenchmarkEnv("matrix-commitment-security", "stratgym/MatrixCommitment-v0", {}, ("ppo", "sac")),
            BenchmarkEnv("matrix-commitment-random442", "stratgym/MatrixCommitment-v0", {"game": RANDOM_BAYESIAN},
                         ("ppo", "sac")),
            BenchmarkEnv("matrix-follower-security", "stratgym/MatrixFollower-v0", {}, ("ppo", "dqn")),
        ),
    },
)
