"""stratgym: multi-round principal–agent games as exact solvers and Gymnasium environments.

Importing the package registers the ``stratgym/`` environments of every game family (:mod:`stratgym.registry`) with
Gymnasium, and the principal policies that the families' agent envs accept by name.
"""

from stratgym.envs import register_envs
from stratgym.registry import families, load

__version__ = "0.1.0"
__all__ = ["register_envs", "__version__"]


def _register_named_policies() -> None:
    """Hand each family's solver-built named policies (e.g. ``scheme="optimal"``) to its env module: envs import no
    solver, the package sits above both."""
    for family in families().values():
        if family.named_policies:
            register = load(family.register_policy)
            for name, target in family.named_policies.items():
                register(name, load(target))


_register_named_policies()
