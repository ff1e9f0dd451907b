"""Where benchmark runs train besides this process: :class:`RayBackend`, each (env, learner, seed) run a Ray task.

A task trains and scores one run (:func:`stratgym.agents.benchmark.train_run`) and returns its files to the
driver, the process running :func:`~stratgym.agents.benchmark.run_benchmark`, which writes them into the
benchmark folder as each run finishes (:func:`~stratgym.agents.benchmark.store_run`). Workers need the same
stratgym and libraries as the driver but no access to its files, so a cluster needs no shared filesystem; folder
layout, resuming, ``overwrite`` and the numbers are those of the serial backend (a run is determined by its seed
and trains with one torch thread wherever it runs). Each task asks Ray for one CPU and sets
``torch.set_num_threads(1)``, so ``N`` CPUs train ``N`` runs at once without oversubscribing them.

Needs the ``ray`` extra (``pip install 'stratgym[ray]'``).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from stratgym.agents.benchmark import FinishedRun, RunSpec, train_run
from stratgym.agents.references import Reference
from stratgym.games.validation import as_positive_int


class RayBackend:
    """Train benchmark runs as Ray tasks of one CPU each: on a local Ray started here (``address=None``; with
    ``num_cpus`` CPUs, default all of this machine's) or on the running cluster at ``address`` (``"auto"``: the one
    ``ray start`` made on this machine). Use as a context manager (or :meth:`start` / :meth:`close`); a Ray already
    initialized in this process (``ray.init`` by the caller) is used as it is and left running.

    Attributes:
        workers: run key -> ``{"host", "pid", "torch_threads", "seconds"}`` of each run this backend trained.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        if address is not None and num_cpus is not None:
            raise ValueError("num_cpus applies to a local Ray only: a cluster at address has the CPUs its nodes were "
                             "started with (ray start --num-cpus)")
        self.address = address
        self.num_cpus = None if num_cpus is None else as_positive_int(num_cpus, "num_cpus")
        self.workers: dict[str, dict[str, Any]] = {}
        self._ray = None
        self._owned = False

    def start(self) -> "RayBackend":
        """Connect to Ray (start a local one unless ``address``); ``ImportError`` without the ``ray`` package."""
        try:
            import ray
        except ImportError as error:
            raise ImportError("the Ray backend needs the ray package: pip install 'stratgym[ray]'") from error
        if ray.is_initialized():
            if self.address is not None or self.num_cpus is not None:
                raise ValueError("Ray is already initialized in this process: pass neither address nor num_cpus to "
                                 "use it, or call ray.shutdown() first")
        else:
            ray.init(address=self.address, num_cpus=self.num_cpus, include_dashboard=False)
            self._owned = True
        self._ray = ray
        if self.slots < 1:
            self.close()
            raise ValueError(f"the Ray cluster at {self.address or 'this machine'} has no CPU to train on")
        return self

    def close(self) -> None:
        """Shut down the Ray this backend started (a cluster keeps running; only this driver disconnects)."""
        if self._owned:
            self._ray.shutdown()
        self._ray, self._owned = None, False

    def __enter__(self) -> "RayBackend":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def slots(self) -> int:
        """Runs that train at once: the CPUs of the Ray cluster (one per run)."""
        return int(self._require().cluster_resources().get("CPU", 0))

    def describe(self) -> str:
        """One line: where runs train."""
        ray = self._require()
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        where = ("the Ray already initialized in this process" if not self._owned
                 else "a local Ray" if self.address is None else f"the Ray cluster at {self.address}")
        return f"training on {where}: {self.slots} CPUs on {nodes} node(s), one run per CPU"

    def run(self, specs: Sequence[RunSpec], references: dict[str, Reference],
            tensorboard: str | Path | None = None) -> Iterator[tuple[RunSpec, FinishedRun, float, str]]:
        """Submit every run of ``specs`` and yield ``(spec, FinishedRun, seconds, where)`` as each finishes
        (``seconds``: its time in the worker; ``where``: ``" on <host> (pid <pid>)"``). An error in a run is raised
        here once the runs that finished before it are yielded, and the runs still queued or training are cancelled
        (also when the caller stops iterating). ``tensorboard``: logs are written by the workers, on their own
        filesystems, at that path."""
        ray = self._require()
        task = ray.remote(num_cpus=1)(_train_task)
        board = None if tensorboard is None else str(Path(tensorboard).resolve())
        command = list(sys.argv)  # the provenance of every file is the driver's command line
        pending = {task.remote(spec, references[spec.env.label], command, board): spec for spec in specs}
        try:
            while pending:
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(ready)
                run, worker = ray.get(ready)
                self.workers[spec.key] = worker
                yield spec, run, worker["seconds"], f" on {worker['host']} (pid {worker['pid']})"
        finally:
            for ref in pending:
                ray.cancel(ref)

    def _require(self):
        if self._ray is None:
            raise RuntimeError("the Ray backend is not started: use it as a context manager or call start()")
        return self._ray


@contextmanager
def _command_line(command: list[str]):
    """``sys.argv`` set to ``command`` (a worker's own is Ray's worker script), restored on exit."""
    own = sys.argv
    sys.argv = command
    try:
        yield
    finally:
        sys.argv = own


def _train_task(spec: RunSpec, reference: Reference, command: list[str],
                tensorboard: str | None) -> tuple[FinishedRun, dict[str, Any]]:
    """The Ray task: train one run with one torch thread; returns it and where and how it trained."""
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    with _command_line(command):
        run = train_run(spec, reference, False, tensorboard)
    return run, {"host": socket.gethostname(), "pid": os.getpid(), "torch_threads": torch.get_num_threads(),
                 "seconds": time.perf_counter() - start}
