"""The game families, one module each, declaring ``FAMILY`` (a :class:`stratgym.registry.Family`).

These modules hold strings and small dicts only (no game, env or solver is imported), so the registry can be read
from any layer; :data:`stratgym.registry.FAMILY_MODULES` lists them.
"""
