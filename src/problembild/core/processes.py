"""Worker processes that do not outlive the process that started them. Django-free.

Imports and refreshes hand heavy work to ``spawn``ed worker processes; when the command
is killed (``kill -9``, an out-of-memory kill) its workers must end too instead of
holding memory and database files.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

#: ``prctl`` option: the signal the kernel sends this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def exit_with_parent(poll_seconds: float = 2.0) -> None:
    """End this process when the process that started it ends (even by ``kill -9``).

    Call it first thing in a worker. On Linux the kernel sends SIGTERM at the parent's
    death (``PR_SET_PDEATHSIG``); a daemon thread that notices the parent's pid change
    covers other systems and the race where the parent died before the signal was armed.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(poll_seconds)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
