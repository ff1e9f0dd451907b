"""Old private path of :mod:`stratgym.games.validation`, kept one release so that code written against it still imports.

Import :mod:`stratgym.games.validation` instead; this module will be removed.
"""

from stratgym.games.validation import *  # noqa: F401,F403
