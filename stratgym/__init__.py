"""stratgym: multi-round principal–agent games as exact solvers and Gymnasium environments.

Importing the package registers the ``stratgym/`` environments with Gymnasium.
"""

from stratgym.envs import register_envs

__version__ = "0.1.0"
__all__ = ["register_envs", "__version__"]
