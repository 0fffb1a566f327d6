"""Runs the Python package's tests for ctest (tests/python.cmake).

    python3 python/tests/run_pytest.py [PYTEST ARGS...]

Exit 77 (ctest: skipped, with the reason printed) when numpy, matplotlib or
pytest is missing for this interpreter; pytest's exit 5 (no test collected)
is a failure, never a silent pass."""

import importlib
import os
import sys

missing = []
for mod in ("numpy", "matplotlib", "pytest"):
    try:
        importlib.import_module(mod)
    except ImportError:
        missing.append(mod)
if missing:
    print("python tests skipped: %s lacks %s (Debian: %s)"
          % (sys.executable, ", ".join(missing), " ".join("python3-" + m for m in missing)))
    sys.exit(77)

import pytest  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rc = pytest.main(["-p", "no:cacheprovider", "-q", "-rs", here] + sys.argv[1:])
if rc == pytest.ExitCode.NO_TESTS_COLLECTED:
    print("run_pytest: no test was collected from %s" % here)
    sys.exit(1)
sys.exit(int(rc))
