/** \file
 * n4d — spiking neural networks on a 4D lattice. Umbrella header.
 * See README.md and docs/api.md. */
#ifndef N4D_H
#define N4D_H

#include "n4d/common.h"
#include "n4d/model.h"
#include "n4d/sim.h"
#include "n4d/partition.h"
#include "n4d/zorder.h"
#include "n4d/profile.h"
#include "n4d/store.h"
#include "n4d/gpu.h"
#include "n4d/compress.h"
#include "n4d/distributed.h"

#endif
