"""Atomic file output: a temporary file in the same folder, then ``os.replace``, so an interrupted run
leaves either the previous file or the new one, never half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` through a temporary file in the same folder and
    ``os.replace``; the folder is created if needed. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _new_file_mode())  # mkstemp makes it owner-only; a result file is as open() would make it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _new_file_mode() -> int:
    """The permissions ``open(path, "w")`` would give a new file: ``0o666`` less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(path: str | Path, data) -> Path:
    """Write ``data`` as indented JSON to ``path`` with :func:`write_atomic`. Returns the path."""
    return write_atomic(path, json.dumps(data, indent=1))
