/* n4d — spiking neural networks on a 4D lattice. Umbrella header.
 * See README.md and docs/api.md. */
#ifndef N4D_H
#define N4D_H

#include "n4d/common.h"
#include "n4d/model.h"
#include "n4d/sim.h"

#endif
