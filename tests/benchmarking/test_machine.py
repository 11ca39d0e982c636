import subprocess
import sys
import time

import pytest

from ov_movement.benchmarking.machine import BackgroundMeter

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")

# Burns half a second of its own CPU time, says so, then waits to be killed: its CPU is another
# process's (never waited for while measured), whatever the machine's load makes of the wall time.
BURNER = """
import sys, time
while time.process_time() < 0.5:
    pass
print("burnt", flush=True)
sys.stdin.read()
"""


def test_cpu_of_other_processes_is_counted():
    start = time.monotonic()
    meter = BackgroundMeter()
    burner = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert burner.stdout.readline().strip() == "burnt"  # an explicit event, no timing
        cores = meter.cores()
        elapsed = time.monotonic() - start
    finally:
        burner.kill()
        burner.wait()
    assert cores is not None
    assert cores * elapsed >= 0.4  # its 0.5 s of CPU, less clock-tick rounding
