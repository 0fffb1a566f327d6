#!/usr/bin/env python3
"""The code examples of 4D Neural Cognition's performance guide, run on n4d.

    PYTHONPATH=python python3 examples/python/fourdnc/run_all.py [WORKDIR]

NN_*.py are the guide's examples in its order, with `src.` replaced by
`n4d.fourdnc.` in their imports (06 also fills in the guide's "{...}"
config; docs/python-fourdnc.md). Like a reader pasting them into one
session, they run in one namespace after _context.py, which defines what
the guide leaves to the reader. Files (large_model.h5) go to WORKDIR
(default: a temporary folder).
"""

import glob
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def examples():
    return sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))


def run(path, namespace):
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, namespace)


def main():
    workdir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="n4d-guide-")
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    ns = {"__name__": "__guide__"}
    run(os.path.join(HERE, "_context.py"), ns)
    for p in examples():
        print("== %s" % os.path.basename(p))
        run(p, ns)


if __name__ == "__main__":
    main()
