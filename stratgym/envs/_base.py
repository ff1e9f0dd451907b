"""Old private path of :mod:`stratgym.envs.base`, kept one release so that code written against it still imports.

Import :mod:`stratgym.envs.base` instead; this module will be removed.
"""

from stratgym.envs.base import *  # noqa: F401,F403
