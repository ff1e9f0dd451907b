"""stratgym: multi-round principal–agent games as exact solvers and Gymnasium environments.

Importing the package registers the ``stratgym/`` environments with Gymnasium.
"""

import numpy as np

from stratgym.envs import register_envs
from stratgym.envs.persuasion import register_scheme
from stratgym.games.persuasion import TIE_TOL, Regions

__version__ = "0.1.0"
__all__ = ["register_envs", "__version__"]


def _optimal_signaling_scheme(regions: Regions, tie_tol: float = TIE_TOL) -> np.ndarray:
    """The signaling LP's principal-optimal BIC scheme ``(R, A)``: ``PersuasionAgent-v0``'s default."""
    # Imported on first use: the LP stack (scipy.optimize, HiGHS) would double the cost of `import stratgym`.
    from stratgym.baselines.signaling import optimal_scheme

    return optimal_scheme(regions, tie_tol).scheme


register_scheme("optimal", _optimal_signaling_scheme)
