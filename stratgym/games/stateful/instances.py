"""Named instances of the stateful game (the classroom, the classroom with a project) and random games."""

from __future__ import annotations

import numpy as np

from stratgym.games.stateful.model import StatefulGame
from stratgym.games.validation import as_positive_int

# ---------------------------------------------------------------------------------------------
# Named instances
# ---------------------------------------------------------------------------------------------

def classroom(horizon: int = 5, **changes) -> StatefulGame:
    """Kleinberg–Raghavan's classroom, made stateful (the paper's Example 1.1 / Appendix A).

    Efforts (d=3): copy on the test, study, look up homework answers. Features (n=2): test score,
    homework score. ``W = [[1, 0.4, 0], [0, 0.4, 1]]``: studying raises both scores by 0.4, each form of
    cheating raises one score by 1. Studying is retained (``omega = (0, 1, 0)``), nothing is forgotten
    (``p = 1``), ``B = 1``, ``gamma = 1``, and the teacher values study only (``lambda = (0, 1, 0)``).

    At ``T = 1`` studying is worth 0.4 per unit against at least 0.5 for the better form of cheating,
    so it cannot be incentivized; with ``T`` rounds, studying in round ``tau`` is worth
    ``0.4 (T - tau + 1)``, so the principal can incentivize study in rounds ``1..T-1``: the best
    reachable average study effort is ``(T - 1) / T``. ``changes`` override any field.
    """
    fields = dict(conversion_matrix=[[1.0, 0.4, 0.0], [0.0, 0.4, 1.0]], retention=[0.0, 1.0, 0.0],
                  persistence=[1.0, 1.0, 1.0], initial_state=[0.0, 0.0, 0.0], budget=1.0,
                  effort_value=[0.0, 1.0, 0.0], horizon=horizon, discount=1.0, conversion="linear",
                  effort_names=("copy", "study", "lookup"), feature_names=("test", "homework"))
    fields.update(changes)
    return StatefulGame(**fields)


def classroom_project(horizon: int = 5, **changes) -> StatefulGame:
    """The classroom with a graded project: studying must be rewarded through the one score cheating cannot move.

    Efforts (d=3) as in :func:`classroom`: copy, study, look up answers; features (n=3): test, homework, project.
    ``W = [[1, 0.1, 0], [0, 0.1, 1], [0, 0.25, 0]]``: each form of cheating raises one score by 1; studying raises
    test and homework by only 0.1 but is the only way to raise the project score (by 0.25). Studying is retained
    (``omega = (0, 1, 0)``), ``p = 1``, ``B = 1``, ``gamma = 1``, and the teacher values study only
    (``lambda = (0, 1, 0)``).

    Under the uniform rule a unit of study is worth ``0.45 / 3 = 0.15`` per remaining round against ``1/3`` for
    either form of cheating: a myopic agent cheats in every round (``U_P = 0``) and a rational or forecasting one
    studies only while three or more rounds remain (``U_P = max(T - 2, 0)``). Putting enough weight on the project
    (e.g. all of it, the best constant rule) makes study the best response in every round: ``U_P* = T`` against
    all three response models. ``changes`` override any field.
    """
    fields = dict(conversion_matrix=[[1.0, 0.1, 0.0], [0.0, 0.1, 1.0], [0.0, 0.25, 0.0]],
                  feature_names=("test", "homework", "project"))
    fields.update(changes)
    return classroom(horizon, **fields)


def random_game(rng: np.random.Generator, horizon: int = 3, n_features: int = 2, n_efforts: int = 3,
                conversion: str = "linear", discount: float | None = None) -> StatefulGame:
    """A random instance drawn from ``rng``.

    ``W`` entries are uniform on ``[0, 1]`` with about a third set to 0; retention uniform on ``[0, 1]``
    with about half the types not retained at all; persistence uniform on ``[0.5, 1]``; ``lambda``
    uniform on ``[-1, 1]``; ``B = 1``; ``s_1 = 0``; ``gamma`` uniform on ``[0.8, 1]`` unless given.
    ``ValueError`` naming the argument for bad input (``conversion`` and ``discount`` are checked by the game).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (numpy.random.default_rng(seed)), got {rng!r}")
    horizon = as_positive_int(horizon, "horizon")
    n_features = as_positive_int(n_features, "n_features")
    n_efforts = as_positive_int(n_efforts, "n_efforts")
    W = rng.uniform(0.0, 1.0, (n_features, n_efforts)) * (rng.random((n_features, n_efforts)) > 1 / 3)
    retention = rng.uniform(0.0, 1.0, n_efforts) * (rng.random(n_efforts) > 0.5)
    return StatefulGame(conversion_matrix=W, retention=retention, persistence=rng.uniform(0.5, 1.0, n_efforts),
                        budget=1.0, effort_value=rng.uniform(-1.0, 1.0, n_efforts), horizon=horizon,
                        discount=float(rng.uniform(0.8, 1.0)) if discount is None else discount,
                        conversion=conversion)
