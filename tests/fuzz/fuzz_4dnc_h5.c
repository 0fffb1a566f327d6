/* libFuzzer harness: the import of 4D Neural Cognition HDF5 saves
 * (n4d_model_import_4dnc, format HDF5: meta_json, neurons, synapses), then
 * a few steps of what imports. Seeds: corpus/4dnc_h5/. Damaged HDF5
 * structure crashes or hangs inside the HDF5 library within seconds
 * (tests/fuzz/README.md), so CI does not run it. */
#define FUZZ_4DNC_FORMAT N4D_IMPORT_HDF5
#define FUZZ_4DNC_SUFFIX ".h5"
#include "fuzz_4dnc.c"
