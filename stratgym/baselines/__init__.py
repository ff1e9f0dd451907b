"""Exact solvers and reference policies: Stackelberg optima, membership oracle, optimal signaling, baselines."""
