"""n4d's 4D lattice as a PyNN structure.

``Lattice4D(shape=(nx, ny, nz, nw), spacing=1.0, origin=(0, 0, 0, 0))``
places the cells of a population on every site of an nx x ny x nz x nw box
of n4d's lattice, x fastest (n4d's site order, so cell i is n4d's neuron
first + i at that site). PyNN sees the x, y, z coordinates (``positions``,
3 x N, what PyNN's spaces and files take); ``Population.positions4d``
gives all four. DistanceDependentProbabilityConnector measures 4D
Euclidean distances between two Lattice4D populations (times their
spacing), and PyNN's ``Space`` distances otherwise.
"""

import numpy as np
from pyNN.space import BaseStructure


class Lattice4D(BaseStructure):
    parameter_names = ("shape", "spacing", "origin")

    def __init__(self, shape, spacing=1.0, origin=(0.0, 0.0, 0.0, 0.0)):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 4 or min(shape) < 1:
            raise ValueError("Lattice4D: shape must be four sizes >= 1, got %r" % (shape,))
        if not (float(spacing) > 0):
            raise ValueError("Lattice4D: spacing must be > 0, got %r" % (spacing,))
        if len(tuple(origin)) != 4:
            raise ValueError("Lattice4D: origin must have four coordinates")
        self.shape = shape
        self.spacing = float(spacing)
        self.origin = tuple(float(o) for o in origin)

    def size(self):
        return int(np.prod(self.shape))

    def sites(self, n):
        """The lattice coordinates (4 x n integers) of the first n sites, x fastest."""
        if n != self.size():
            raise ValueError("Lattice4D%r has %d sites, the population %d cells"
                             % (self.shape, self.size(), n))
        idx = np.arange(n)
        nx, ny, nz, _ = self.shape
        return np.array([idx % nx, (idx // nx) % ny, (idx // (nx * ny)) % nz,
                         idx // (nx * ny * nz)])

    def generate_positions4d(self, n):
        return self.sites(n) * self.spacing + np.asarray(self.origin)[:, None]

    def generate_positions(self, n):
        """x, y, z of the sites (PyNN's 3 x n positions)."""
        return self.generate_positions4d(n)[:3]
