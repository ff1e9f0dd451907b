"""PettingZoo envs of the stratgym games: the principal and the agent both learn.

One module per game, PettingZoo style, each with ``env()`` (AEC: the principal moves, then the agent) and
``parallel_env()`` (both move at once), and a header table (creation call, actions, observations, players,
reference solver, known optimum):

* :mod:`~stratgym.multiagent.stateful_v0`: stateful strategic regression, ``T`` rounds per episode.
* :mod:`~stratgym.multiagent.persuasion_v0`: Bayesian persuasion for recourse, ``rounds`` recommendations per episode.
* :mod:`~stratgym.multiagent.matrix_v0`: Stackelberg matrix games, ``rounds`` commitments per episode.

:mod:`~stratgym.multiagent.base` holds the shells both share. Training both sides at once lives one layer up,
in :mod:`stratgym.agents.twosided` (it needs the solvers for its references; envs never import solvers).
Needs the ``multiagent`` extra (``pip install 'stratgym[multiagent]'``: PettingZoo).
"""

#: Module names of the multi-agent envs (``stratgym.multiagent.<name>``), for registry-wide tests and tools.
ENVIRONMENTS = ("stateful_v0", "persuasion_v0", "matrix_v0")
