# Everything is in pyproject.toml; this only adds n4d-pynn.pth to the
# installed files (setuptools has no pyproject key for a .pth file): it
# imports _n4d_pynn at interpreter start so that `import pyNN.n4d` finds the
# PyNN backend n4d.pynn.
import os

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_pth(build_py):
    def run(self):
        super().run()
        self.copy_file("n4d-pynn.pth", os.path.join(self.build_lib, "n4d-pynn.pth"))


setup(cmdclass={"build_py": build_py_with_pth})
