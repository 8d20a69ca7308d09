"""The import's worker process ends when the import is killed (issue 9, item 8).

The parent runs in a subprocess: it starts a parallel import of a file of many small chunks
(a Parquet file read in batches of ten rows, so the worker is still busy, or waiting on the
full queue), reports its worker's pid, and is killed with SIGKILL. The worker must be gone
within a few seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

PARENT = textwrap.dedent(
    """
    import multiprocessing, sys, time
    from pathlib import Path

    from problembild.incidents.rows import ChunkPreparer, Table, prepared_chunks
    from problembild.incidents.taxonomy import load_taxonomy

    if __name__ == "__main__":
        path = Path(sys.argv[1])
        taxonomy = load_taxonomy(sys.argv[2])
        preparer = ChunkPreparer(
            fname=str(path), renamed={"id": "id", "occurred_at": "occurred_at", "type": "type"},
            source="orphan", lookup=None, taxonomy=taxonomy, index=None, vendor="sqlite",
        )
        chunks = prepared_chunks(Table(path, chunk_rows=10), preparer, parallel=True)
        next(chunks)
        next(chunks)  # the second chunk comes from the worker: it runs
        print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
        time.sleep(600)  # the import "writes"; the test kills this process meanwhile
    """
)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie that nobody reaps counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_exits_when_the_import_is_killed(tmp_path):
    from problembild.incidents.services import configured_taxonomy

    # Parquet files are read in batches of ``chunk_rows`` (CSV in blocks of 16 MB).
    data = tmp_path / "many.parquet"
    pd.DataFrame(
        {"id": [f"w{i}" for i in range(5000)], "occurred_at": "2024-01-01T00:00", "type": "Misshandel"}
    ).to_parquet(data)
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    parent = subprocess.Popen(
        [sys.executable, str(script), str(data), configured_taxonomy().path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = parent.stdout.readline()
        assert line.strip(), parent.stderr.read()
        workers = [int(p) for p in line.split()]
        assert workers and all(alive(p) for p in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.1)
        left = [p for p in workers if alive(p)]
        for pid in left:  # do not leave them behind when the test fails
            os.kill(pid, signal.SIGKILL)
        assert not left, f"worker(s) {left} outlived the killed import"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
