"""Ctrl-C at any moment of a command's life, through a real process: exit 130, no traceback.

The first tenth of a second is Python loading mailer's modules; a Ctrl-C there
used to print a KeyboardInterrupt traceback. The command is started as the
installed ``mailer`` script starts it (``from mailer import main; main()``), but
without ``site`` (-S, the search path passed in PYTHONPATH): ``site`` runs an
editable install's .pth finder first, and a Ctrl-C inside it fails CPython's own
start-up. Before the first line of mailer runs, no program can catch a Ctrl-C:
it kills CPython by the signal (-2 here; a shell shows 130 for it too), or, while
CPython finds the ``mailer`` package, prints a traceback naming no file of mailer's.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mailer

# Moments after the start: while Python loads mailer, then while the command runs.
MOMENTS = (0.0, 0.02, 0.05, 0.08, 0.12, 0.2, 0.3)


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(
        [sys.executable, "-S", "-c", "from mailer import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def mailer_frames(stderr: bytes) -> list[str]:
    """Files of mailer's own in a traceback."""
    package = str(Path(mailer.__file__).parent)
    return [f for f in re.findall(r'File "([^"]+)"', stderr.decode()) if f.startswith(package)]


@pytest.mark.slow
def test_ctrl_c_right_after_the_start_exits_130_quietly(with_orgs):
    quiet = 0
    for moment in MOMENTS:
        command = start("org", "list", "--json")
        time.sleep(moment)
        command.send_signal(signal.SIGINT)
        stdout, stderr = command.communicate(timeout=60)
        if command.returncode == 0:  # it had finished: then its output is whole
            assert stdout.startswith(b"[") and stderr == b""
            continue
        assert command.returncode in (130, -signal.SIGINT), (moment, stderr.decode())
        if stderr in (b"", b"Interrupted.\n"):
            quiet += command.returncode == 130
        else:  # interrupted before mailer ran: CPython's own message
            assert b"KeyboardInterrupt" in stderr and not mailer_frames(stderr), stderr.decode()
    assert quiet >= len(MOMENTS) // 2  # most moments fall while mailer loads or runs
