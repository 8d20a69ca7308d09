"""Worker processes end with the process that started them, even when it is killed (issue 9, item 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil

PARENT = textwrap.dedent(
    """
    import multiprocessing, sys, time
    from problembild.core.processes import exit_with_parent

    def child():
        exit_with_parent(poll_seconds=0.2)
        time.sleep(120)

    if __name__ == "__main__":
        p = multiprocessing.get_context("spawn").Process(target=child)
        p.start()
        print(p.pid, flush=True)
        time.sleep(120)
    """
)


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        time.sleep(1.0)  # let the child arm its watch
        assert psutil.pid_exists(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"worker {child} outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_refresh_workers_start_with_the_watch():
    import shapely

    from problembild.picture.refresh import space
    from tests.picture.refresh.test_space import AS_OF, SETTINGS, planted

    tasks = [(1, shapely.box(374_000, 6_160_000, 376_000, 6_162_000), planted(1))] * 2
    with space.SpaceJobs(tasks, AS_OF, SETTINGS, parallel=True) as jobs:
        assert jobs._pool._initializer is space._start_worker
        jobs.result()
