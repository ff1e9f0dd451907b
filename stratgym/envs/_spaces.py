"""Old private path of :mod:`stratgym.envs.spaces`, kept one release so that code written against it still imports.

Import :mod:`stratgym.envs.spaces` instead; this module will be removed.
"""

from stratgym.envs.spaces import *  # noqa: F401,F403
