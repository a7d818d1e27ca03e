"""A cold notebook kernel's start, inside the sandbox: `python -s -P kernel.py ipykernel_launcher -f CONNECTION_FILE`.

First what a kernel forked from the warm zygote already holds (torch imported and warmed up,
the generator where a fresh import leaves it: the harness's `_as_a_warm_run_starts`), then
ipykernel as `python -m ipykernel_launcher` starts it. The memory limit counts from the first
cell, so a cold kernel and a warm one leave the student's cells the same room.
"""

import os
import runpy
import sys
from pathlib import Path

runpy.run_path(str(Path(__file__).with_name("harness.py")), run_name="grader_harness")["_as_a_warm_run_starts"]()
sys.argv = sys.argv[1:]  # ["ipykernel_launcher", "-f", CONNECTION_FILE]
sys.path.insert(0, os.getcwd())  # as `python -m` puts the working folder first
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
