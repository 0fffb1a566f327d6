"""Import hook that makes ``import pyNN.n4d`` load ``n4d.pynn`` (the n4d
backend of PyNN) without writing into PyNN's own directory.

``pip install ./python`` installs ``n4d-pynn.pth``, which imports this
module at interpreter start; it only adds a finder to ``sys.meta_path`` for
the names ``pyNN.n4d`` and ``pyNN.n4d.*`` (importing nothing else), so it
costs nothing to programs that do not use PyNN. Elsewhere (a source tree,
``pip install --target``) call ``_n4d_pynn.install()`` or import
``n4d.pynn`` first."""

import importlib
import importlib.abc
import importlib.util
import sys

_PREFIX = "pyNN.n4d"
_TARGET = "n4d.pynn"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # executed as n4d.pynn already


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        real = _TARGET + fullname[len(_PREFIX):]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real),
                                               is_package=(fullname == _PREFIX))


def install():
    """Adds the finder (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


install()
