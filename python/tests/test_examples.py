"""Every Python example of a capability (examples/python/*.py) runs and
checks its own result (they assert what they claim: checksums equal across
threads, layouts, compression, mmap and resume; numpy agreement)."""

import os
import re
import subprocess
import sys

import pytest

import n4d

HERE = os.path.dirname(os.path.abspath(__file__))
EX = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "python")

CASES = {
    "senses.py": [r"phase 0 \(bar on \): V1_like [1-9][0-9.]* Hz",
                  r"phase 1 \(bar off\): V1_like 0\.0 Hz"],
    "gpu_api.py": [r"max \|difference to numpy\| 0 mV", r"benchmark_vs_cpu"],
    "partitions.py": [r"imbalance: neurons 0\.0%", r"3 threads: checksum"],
    "zorder.py": [r"zorder  build: mean jump", r"checksums:"],
    "compression.py": [r"compressed [1-9]\d* of \d+ blocks", r"saved [1-9]"],
    "storage.py": [r"ids \[0, 5, 9, 300\]: 4 neurons", r"memory-mapped load: checksum"],
    "checkpoint.py": [r"uninterrupted ([0-9a-f]{16}), resumed \1"],
    "profilers.py": [r"the sim added", r"my feed\s+100"],
}


def test_every_example_is_tested():
    found = {f for f in os.listdir(EX) if f.endswith(".py") and not f.startswith("_")}
    assert found - {"plots.py"} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example(name, tmp_path):
    env = dict(os.environ, N4D_LIBRARY=n4d.library_path(),
               PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(n4d.__file__)),
                                           os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, os.path.join(EX, name)], cwd=str(tmp_path),
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    for pat in CASES[name]:
        assert re.search(pat, r.stdout), (pat, r.stdout)

