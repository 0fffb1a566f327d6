"""Loading libn4d and the ctypes mirror of its public C ABI.

Every struct below mirrors one of include/n4d/*.h field for field (the test
python/tests/test_layout.py compiles a C program that checks each size and
offset against the C compiler's, and parses the headers for the field
names). Option structs carry ``struct_size`` first: the library reads only
the fields a caller of that size knows, so these mirrors stay valid for
newer libraries of the same ABI (docs/packaging.md: within 0.x the ABI is
major.minor, the soname libn4d.so.0.MINOR; from 1.0 it is the major).
"""

import ctypes
import ctypes.util
import glob
import os

from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p, CFUNCTYPE)

#: the library version these bindings speak: within 0.x exactly this minor
#: (a 0.x minor may change the ABI), from 1.0 this minor or newer of the major
ABI_MAJOR = 0
ABI_MIN_MINOR = 2
#: the soname of that ABI
SONAME = "libn4d.so.%d.%d" % (ABI_MAJOR, ABI_MIN_MINOR) if ABI_MAJOR == 0 else \
    "libn4d.so.%d" % ABI_MAJOR


def abi_compatible(major, minor):
    """Whether a library of version major.minor has the ABI of these bindings."""
    if major != ABI_MAJOR:
        return False
    return minor == ABI_MIN_MINOR if ABI_MAJOR == 0 else minor >= ABI_MIN_MINOR

MEM_TAG_COUNT = 8

# ---- structs (include/n4d/common.h) ------------------------------------

ALLOC_FN = CFUNCTYPE(c_void_p, c_void_p, c_size_t, c_size_t)
FREE_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t)
LOG_FN = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)


class n4d_allocator(Structure):
    _fields_ = [("alloc", ALLOC_FN), ("free", FREE_FN), ("user_data", c_void_p)]


class n4d_context_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("allocator", n4d_allocator), ("log", LOG_FN),
                ("log_user_data", c_void_p), ("log_level", c_int32), ("memory_limit", c_uint64)]


class n4d_memory_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("current", c_uint64 * MEM_TAG_COUNT),
                ("peak", c_uint64 * MEM_TAG_COUNT), ("total_current", c_uint64),
                ("total_peak", c_uint64)]


# ---- model.h --------------------------------------------------------------

class n4d_param_value(Structure):
    _fields_ = [("name", c_char_p), ("value", c_double)]


class n4d_neuron_model_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("id", c_int32), ("name", c_char_p),
                ("description", c_char_p), ("num_params", c_int32), ("num_states", c_int32),
                ("num_presets", c_int32), ("has_refractory", c_int32)]


class n4d_param_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("alias", c_char_p),
                ("unit", c_char_p), ("description", c_char_p), ("default_value", c_double),
                ("min", c_double), ("max", c_double), ("min_exclusive", c_int32),
                ("max_exclusive", c_int32)]


class n4d_state_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("unit", c_char_p),
                ("initial", c_char_p), ("description", c_char_p)]


class n4d_synapse_model_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("id", c_int32), ("name", c_char_p),
                ("description", c_char_p), ("num_vars", c_int32), ("num_params", c_int32),
                ("bytes_per_synapse", c_uint32)]


class n4d_dist(Structure):
    _fields_ = [("kind", c_int32), ("value", c_double), ("std", c_double), ("lo", c_double),
                ("hi", c_double)]


class n4d_population_desc(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("area", c_char_p),
                ("model", c_int32), ("placement", c_int32), ("density", c_double),
                ("count", c_uint64), ("v_init", n4d_dist), ("model_name", c_char_p),
                ("preset", c_char_p), ("params", POINTER(n4d_param_value)),
                ("n_params", c_uint32)]


class n4d_projection_desc(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("source", c_char_p),
                ("target", c_char_p), ("rule", c_int32), ("p", c_double), ("n", c_uint64),
                ("kernel", c_int32), ("sigma", c_double), ("cutoff", c_double),
                ("weight", n4d_dist), ("delay", n4d_dist), ("syn_type", c_int32),
                ("allow_autapses", c_int32), ("allow_multapses", c_int32),
                ("synapse_model", c_char_p), ("synapse_params", POINTER(n4d_param_value)),
                ("n_synapse_params", c_uint32), ("pre", POINTER(c_uint32)),
                ("post", POINTER(c_uint32)), ("weights", POINTER(c_double)),
                ("delays", POINTER(c_double)), ("n_connections", c_uint64)]


class n4d_input_desc(Structure):
    _fields_ = [("struct_size", c_uint32), ("kind", c_int32), ("target", c_char_p),
                ("amplitude", c_double), ("rate", c_double), ("weight", c_double),
                ("n_sources", c_uint32), ("start", c_double), ("stop", c_double),
                ("sampling", c_int32), ("neurons", POINTER(c_uint32)), ("n_neurons", c_uint64),
                ("times", POINTER(c_double)), ("indices", POINTER(c_uint32)),
                ("values", POINTER(c_double)), ("n_times", c_uint64), ("offset", c_double),
                ("frequency", c_double), ("phase", c_double), ("std", c_double),
                ("interval", c_double)]


class n4d_layout_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("order", c_int32), ("partitions", c_uint32),
                ("balance_synapses", c_int32)]


class n4d_lifecycle(Structure):
    _fields_ = [("struct_size", c_uint32), ("enable_death", c_int32),
                ("enable_reproduction", c_int32), ("max_age", c_double),
                ("health_decay_per_step", c_double), ("mutation_std_params", c_double),
                ("mutation_std_weights", c_double)]


class n4d_homeostasis(Structure):
    _fields_ = [("struct_size", c_uint32), ("target_rate", c_double), ("window", c_double),
                ("eta", c_double), ("scale_min", c_double), ("scale_max", c_double)]


class n4d_modulator_desc(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("baseline", c_double),
                ("decay_rate", c_double), ("level", c_double), ("driven_by", c_char_p),
                ("per_spike", c_double), ("delay", c_double)]


class n4d_population_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("area", c_char_p),
                ("model", c_int32), ("first", c_uint64), ("count", c_uint64),
                ("model_name", c_char_p)]


# ---- sim.h ----------------------------------------------------------------

class n4d_sim_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("backend", c_char_p), ("num_threads", c_int32),
                ("seed", c_uint64), ("dt", c_double), ("history_steps", c_uint32),
                ("record_spikes", c_int32)]


class n4d_step_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("step", c_uint64), ("spikes", c_uint64),
                ("total_spikes", c_uint64)]


# ---- store.h --------------------------------------------------------------

class n4d_save_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("compression", c_int32), ("gzip_level", c_int32),
                ("shuffle", c_int32), ("chunk_size", c_uint64), ("contiguous", c_int32),
                ("sonata_edges", c_int32)]


class n4d_load_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("mmap_synapses", c_int32), ("select", c_int32),
                ("ids", POINTER(c_uint64)), ("n_ids", c_uint64), ("first", c_uint64),
                ("count", c_uint64), ("lo", c_int32 * 4), ("hi", c_int32 * 4)]


class n4d_resume_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("backend", c_char_p), ("num_threads", c_int32),
                ("mmap_synapses", c_int32)]


class n4d_record_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("buffer_spikes", c_uint64),
                ("compression", c_int32), ("gzip_level", c_int32), ("shuffle", c_int32),
                ("report_ids", POINTER(c_uint64)), ("n_report_ids", c_uint64),
                ("report_vars", c_char_p), ("report_every", c_uint32),
                ("report_weights", c_char_p)]


class n4d_import_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("format", c_int32),
                ("reference_inhibition", c_int32), ("static_weights", c_int32)]


# ---- compress.h / profile.h -------------------------------------------------

class n4d_compress_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("threshold_steps", c_uint32),
                ("check_every", c_uint32), ("level", c_int32)]


class n4d_compress_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("blocks", c_uint64),
                ("blocks_compressed", c_uint64), ("neurons_compressed", c_uint64),
                ("bytes_before", c_uint64), ("bytes_after", c_uint64),
                ("bytes_saved_real", c_uint64), ("restores", c_uint64),
                ("compressions", c_uint64)]


# ---- distributed.h --------------------------------------------------------

COMM_ALLGATHER_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_uint64, c_void_p)
COMM_ALLGATHERV_FN = CFUNCTYPE(c_int32, c_void_p, c_void_p, POINTER(c_uint64), c_void_p)
COMM_ABORT_FN = CFUNCTYPE(None, c_void_p, c_int)


class n4d_comm(Structure):
    _fields_ = [("struct_size", c_uint32), ("rank", c_int32), ("size", c_int32),
                ("user", c_void_p), ("allgather", COMM_ALLGATHER_FN),
                ("allgatherv", COMM_ALLGATHERV_FN), ("abort", COMM_ABORT_FN)]


class n4d_dist_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("rank", c_int32), ("size", c_int32),
                ("first_neuron", c_uint64), ("num_neurons", c_uint64),
                ("local_synapses", c_uint64), ("total_synapses", c_uint64),
                ("first_partition", c_uint32), ("num_partitions", c_uint32),
                ("build_s", c_double)]


class n4d_dist_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("exchanges", c_uint64), ("bytes_sent", c_uint64),
                ("bytes_received", c_uint64), ("exchange_s", c_double), ("compute_s", c_double)]


class n4d_profile_entry(Structure):
    _fields_ = [("name", c_char_p), ("calls", c_uint64), ("total_s", c_double),
                ("mean_s", c_double), ("min_s", c_double), ("max_s", c_double)]


# ---- gpu.h ----------------------------------------------------------------

class n4d_gpu_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("use_gpu", c_int32), ("device_id", c_int32),
                ("require_gpu", c_int32)]


class n4d_gpu_info(Structure):
    _fields_ = [("struct_size", c_uint32), ("on_gpu", c_int32), ("device_id", c_int32),
                ("device_count", c_int32), ("name", c_char * 256), ("total_bytes", c_uint64),
                ("compute_major", c_int32), ("compute_minor", c_int32),
                ("multiprocessors", c_int32), ("runtime_version", c_int32),
                ("driver_version", c_int32), ("reason", c_char * 512)]


class n4d_gpu_memory(Structure):
    _fields_ = [("struct_size", c_uint32), ("on_gpu", c_int32), ("used_mb", c_double),
                ("total_mb", c_double), ("free_mb", c_double), ("percent", c_double),
                ("cached_bytes", c_uint64)]


class n4d_gpu_lif_params(Structure):
    _fields_ = [("struct_size", c_uint32), ("tau_m", c_double), ("v_rest", c_double),
                ("v_threshold", c_double), ("v_reset", c_double), ("dt", c_double)]


class n4d_gpu_csr(Structure):
    _fields_ = [("struct_size", c_uint32), ("rows", c_uint64), ("cols", c_uint64),
                ("nnz", c_uint64), ("row_ptr", POINTER(c_int32)), ("col_idx", POINTER(c_int32)),
                ("values", POINTER(c_float))]


class n4d_gpu_gemm(Structure):
    _fields_ = [("struct_size", c_uint32), ("m", c_uint64), ("n", c_uint64), ("k", c_uint64),
                ("batch", c_uint64), ("alpha", c_float), ("beta", c_float),
                ("a", POINTER(c_float)), ("b", POINTER(c_float)), ("c", POINTER(c_float))]


class n4d_gpu_benchmark_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("operation", c_int32), ("sizes", POINTER(c_uint64)),
                ("n_sizes", c_size_t), ("iterations", c_uint32), ("cpu_threads", c_int32),
                ("seed", c_uint64)]


class n4d_gpu_benchmark_result(Structure):
    _fields_ = [("struct_size", c_uint32), ("sizes", POINTER(c_uint64)),
                ("cpu_seconds", POINTER(c_double)), ("gpu_seconds", POINTER(c_double)),
                ("gpu_seconds_with_transfers", POINTER(c_double)),
                ("speedups", POINTER(c_double)), ("speedups_with_transfers", POINTER(c_double)),
                ("gpu_available", c_int32), ("results_match", c_int32),
                ("device", c_char * 256), ("note", c_char * 512)]


# ---- partition.h, zorder.h, profile.h (memory) -----------------------------

class n4d_partition_options(Structure):
    _fields_ = [("struct_size", c_uint32), ("balance_synapses", c_int32)]


class n4d_partition(Structure):
    _fields_ = [("lo", c_int32 * 4), ("hi", c_int32 * 4), ("num_neurons", c_uint64),
                ("num_synapses", c_uint64), ("neurons", POINTER(c_uint32))]


class n4d_balance_stats(Structure):
    _fields_ = [("mean", c_double), ("std", c_double), ("min", c_double), ("max", c_double),
                ("imbalance", c_double)]


class n4d_partition_result(Structure):
    _fields_ = [("num_partitions", c_uint32), ("balance_synapses", c_int32),
                ("num_neurons", c_uint64), ("partitions", POINTER(n4d_partition)),
                ("partition_of", POINTER(c_uint32)), ("neurons", n4d_balance_stats),
                ("synapses", n4d_balance_stats)]


class n4d_access_stats(Structure):
    _fields_ = [("struct_size", c_uint32), ("jumps", c_uint64), ("mean_jump", c_double),
                ("max_jump", c_uint64), ("sequential_fraction", c_double),
                ("locality_score", c_double), ("accesses", c_uint64),
                ("lines_per_access", c_double), ("pages_per_access", c_double)]


class n4d_mem_snapshot(Structure):
    _fields_ = [("struct_size", c_uint32), ("label", c_char * 48),
                ("bytes", c_uint64 * MEM_TAG_COUNT), ("total", c_uint64),
                ("peak_total", c_uint64)]


class n4d_mem_diff(Structure):
    _fields_ = [("struct_size", c_uint32), ("bytes", c_int64 * MEM_TAG_COUNT),
                ("total", c_int64)]


class n4d_memory_optimization(Structure):
    _fields_ = [("struct_size", c_uint32), ("initial_bytes", c_uint64),
                ("final_bytes", c_uint64), ("bytes_saved", c_int64), ("applied", c_uint32),
                ("skipped", c_uint32), ("description", c_char * 512)]

#: n4d_optimize_memory flags (include/n4d/profile.h)
OPTIMIZE_ZORDER, OPTIMIZE_SHRINK, OPTIMIZE_HISTORY, OPTIMIZE_COMPRESS = 1, 2, 4, 8
OPTIMIZE_NAMES = {OPTIMIZE_ZORDER: "zorder", OPTIMIZE_SHRINK: "shrink",
                  OPTIMIZE_HISTORY: "history", OPTIMIZE_COMPRESS: "compress"}


#: every mirrored struct, by its C name (the layout test walks this)
STRUCTS = {cls.__name__: cls for cls in [
    n4d_allocator, n4d_context_options, n4d_memory_stats, n4d_param_value,
    n4d_neuron_model_info, n4d_param_info, n4d_state_info, n4d_synapse_model_info, n4d_dist,
    n4d_population_desc, n4d_projection_desc, n4d_input_desc, n4d_layout_options,
    n4d_lifecycle, n4d_homeostasis, n4d_modulator_desc, n4d_population_info,
    n4d_sim_options, n4d_step_stats, n4d_save_options, n4d_load_options, n4d_resume_options,
    n4d_record_options, n4d_import_options, n4d_compress_options, n4d_compress_stats,
    n4d_profile_entry, n4d_gpu_options, n4d_gpu_info, n4d_gpu_memory, n4d_gpu_lif_params,
    n4d_gpu_csr, n4d_gpu_gemm, n4d_gpu_benchmark_options, n4d_gpu_benchmark_result,
    n4d_partition_options, n4d_partition, n4d_balance_stats, n4d_partition_result,
    n4d_access_stats, n4d_mem_snapshot, n4d_mem_diff, n4d_memory_optimization,
    n4d_comm, n4d_dist_info, n4d_dist_stats]}


def new(cls, init=None):
    """An option struct filled by its C _init function (or zeroed), struct_size set."""
    s = cls()
    if init is not None:
        getattr(lib(), init)(ctypes.byref(s))
    if "struct_size" in dict(cls._fields_):
        s.struct_size = ctypes.sizeof(cls)
    return s


# ---- functions --------------------------------------------------------------

st = c_int32  # n4d_status
vp = c_void_p
P = POINTER

_PROTOTYPES = {
    # common.h
    "n4d_status_string": (c_char_p, [st]),
    "n4d_version_string": (c_char_p, []),
    "n4d_has_feature": (c_int, [c_int32]),
    "n4d_context_options_init": (None, [P(n4d_context_options)]),
    "n4d_context_create": (st, [P(n4d_context_options), P(vp)]),
    "n4d_context_destroy": (None, [vp]),
    "n4d_last_error": (c_char_p, [vp]),
    "n4d_context_memory": (st, [vp, P(n4d_memory_stats)]),
    "n4d_mem_tag_name": (c_char_p, [c_int32]),
    # model.h: registry
    "n4d_neuron_model_count": (c_int32, []),
    "n4d_neuron_model_find": (c_int32, [c_char_p]),
    "n4d_neuron_model_info_get": (st, [c_int32, P(n4d_neuron_model_info)]),
    "n4d_neuron_model_param_info": (st, [c_int32, c_int32, P(n4d_param_info)]),
    "n4d_neuron_model_state_info": (st, [c_int32, c_int32, P(n4d_state_info)]),
    "n4d_neuron_model_preset": (c_char_p, [c_int32, c_int32]),
    "n4d_synapse_model_count": (c_int32, []),
    "n4d_synapse_model_find": (c_int32, [c_char_p]),
    "n4d_synapse_model_info_get": (st, [c_int32, P(n4d_synapse_model_info)]),
    "n4d_synapse_model_param_info": (st, [c_int32, c_int32, P(n4d_param_info)]),
    # model.h: description
    "n4d_population_desc_init": (None, [P(n4d_population_desc)]),
    "n4d_projection_desc_init": (None, [P(n4d_projection_desc)]),
    "n4d_input_desc_init": (None, [P(n4d_input_desc)]),
    "n4d_layout_options_init": (None, [P(n4d_layout_options)]),
    "n4d_lifecycle_init": (None, [P(n4d_lifecycle)]),
    "n4d_homeostasis_init": (None, [P(n4d_homeostasis)]),
    "n4d_modulator_desc_init": (None, [P(n4d_modulator_desc)]),
    "n4d_model_create": (st, [vp, P(vp)]),
    "n4d_model_from_json_file": (st, [vp, c_char_p, P(vp)]),
    "n4d_model_from_json_string": (st, [vp, c_char_p, c_size_t, c_char_p, P(vp)]),
    "n4d_model_destroy": (None, [vp]),
    "n4d_model_set_lattice": (st, [vp, P(c_uint32)]),
    "n4d_model_set_dt": (st, [vp, c_double]),
    "n4d_model_set_seed": (st, [vp, c_uint64]),
    "n4d_model_set_build_threads": (st, [vp, c_int32]),
    "n4d_model_set_build_backend": (st, [vp, c_char_p]),
    "n4d_model_set_layout": (st, [vp, P(n4d_layout_options)]),
    "n4d_model_add_area": (st, [vp, c_char_p, P(c_int32), P(c_int32)]),
    "n4d_model_add_population": (st, [vp, P(n4d_population_desc), P(c_int32)]),
    "n4d_model_set_population_param": (st, [vp, c_char_p, c_char_p, c_double]),
    "n4d_model_get_population_param": (st, [vp, c_char_p, c_char_p, P(c_double)]),
    "n4d_model_set_population_lifecycle": (st, [vp, c_char_p, P(n4d_lifecycle)]),
    "n4d_model_get_population_lifecycle": (st, [vp, c_char_p, P(n4d_lifecycle)]),
    "n4d_model_set_homeostasis": (st, [vp, c_char_p, P(n4d_homeostasis)]),
    "n4d_model_get_homeostasis": (st, [vp, c_char_p, P(n4d_homeostasis), P(c_int)]),
    "n4d_model_add_projection": (st, [vp, P(n4d_projection_desc), P(c_int32)]),
    "n4d_model_add_input": (st, [vp, P(n4d_input_desc)]),
    "n4d_model_add_modulator": (st, [vp, P(n4d_modulator_desc)]),
    "n4d_model_bind_modulator": (st, [vp, c_char_p, c_int32, c_char_p, c_double]),
    "n4d_model_num_modulators": (c_int32, [vp]),
    "n4d_model_modulator_name": (c_char_p, [vp, c_int32]),
    "n4d_model_add_sense": (st, [vp, c_char_p, c_char_p, c_uint32, c_uint32]),
    "n4d_model_build": (st, [vp]),
    # model.h: queries
    "n4d_model_is_built": (c_int, [vp]),
    "n4d_model_build_backend": (c_char_p, [vp]),
    "n4d_model_dt": (c_double, [vp]),
    "n4d_model_seed": (c_uint64, [vp]),
    "n4d_model_num_neurons": (c_uint64, [vp]),
    "n4d_model_num_synapses": (c_uint64, [vp]),
    "n4d_model_num_populations": (c_int32, [vp]),
    "n4d_model_num_projections": (c_int32, [vp]),
    "n4d_model_lattice": (st, [vp, P(c_uint32)]),
    "n4d_model_population_info": (st, [vp, c_int32, P(n4d_population_info)]),
    "n4d_model_find_population": (c_int32, [vp, c_char_p]),
    "n4d_model_neuron_position": (st, [vp, c_uint64, P(c_int32)]),
    "n4d_model_neuron_population": (c_int32, [vp, c_uint64]),
    "n4d_model_out_degree": (st, [vp, c_uint64, P(c_uint64)]),
    "n4d_model_get_synapses": (st, [vp, c_uint64, c_uint64, P(c_uint32), P(c_float),
                                    P(c_float), P(c_uint64)]),
    "n4d_model_delay_range": (st, [vp, P(c_uint32), P(c_uint32)]),
    "n4d_model_memory": (st, [vp, P(c_uint64)]),
    "n4d_model_warnings": (c_char_p, [vp]),
    "n4d_model_default_duration": (c_double, [vp]),
    # sim.h
    "n4d_sim_options_init": (None, [P(n4d_sim_options)]),
    "n4d_backend_count": (c_uint32, []),
    "n4d_backend_name": (c_char_p, [c_uint32]),
    "n4d_backend_caps": (c_uint32, [c_char_p]),
    "n4d_backend_probe": (st, [c_char_p, c_char_p, c_size_t]),
    "n4d_sim_create": (st, [vp, P(n4d_sim_options), P(vp)]),
    "n4d_sim_destroy": (None, [vp]),
    "n4d_sim_backend": (c_char_p, [vp]),
    "n4d_sim_num_threads": (c_int32, [vp]),
    "n4d_sim_step": (st, [vp]),
    "n4d_sim_run": (st, [vp, c_uint64]),
    "n4d_sim_current_step": (c_uint64, [vp]),
    "n4d_sim_dt": (c_double, [vp]),
    "n4d_sim_last_spikes": (st, [vp, P(P(c_uint32)), P(c_uint64)]),
    "n4d_sim_spikes": (st, [vp, P(P(c_uint64)), P(P(c_uint32)), P(c_uint64)]),
    "n4d_sim_clear_spikes": (st, [vp]),
    "n4d_sim_spiked_at": (c_int, [vp, c_uint64, c_uint64]),
    "n4d_sim_total_spikes": (c_uint64, [vp]),
    "n4d_sim_get_homeostatic_scale": (st, [vp, P(c_float), c_uint64]),
    "n4d_sim_checksum": (c_uint64, [vp]),
    "n4d_sim_step_stats": (st, [vp, P(n4d_step_stats)]),
    "n4d_sim_get_state": (st, [vp, c_char_p, P(c_float), c_uint64]),
    "n4d_sim_set_state": (st, [vp, c_char_p, P(c_float), c_uint64]),
    "n4d_sim_add_input": (st, [vp, c_uint64, c_float]),
    "n4d_sim_feed_sense": (st, [vp, c_char_p, P(c_float), c_uint32, c_uint32, c_uint32]),
    "n4d_sim_set_modulator": (st, [vp, c_char_p, c_double]),
    "n4d_sim_get_modulator": (st, [vp, c_char_p, P(c_double)]),
    "n4d_sim_reward": (st, [vp, c_double, c_double]),
    "n4d_sim_punishment": (st, [vp, c_double, c_double]),
    "n4d_sim_novelty": (st, [vp, c_double, c_double]),
    "n4d_sim_get_weights": (st, [vp, c_char_p, c_uint64, P(c_uint32), P(c_uint32), P(c_float),
                                 P(c_uint64)]),
    "n4d_sim_set_weights": (st, [vp, c_char_p, P(c_float), c_uint64]),
    "n4d_sim_get_lineage": (st, [vp, c_uint64, c_uint64, P(c_uint64), P(c_uint32), P(c_int64),
                                 P(c_uint8), P(c_uint64), P(c_double)]),
    "n4d_sim_lifecycle_counts": (st, [vp, P(c_uint64), P(c_uint64)]),
    # store.h
    "n4d_save_options_init": (None, [P(n4d_save_options)]),
    "n4d_model_save": (st, [vp, c_char_p, P(n4d_save_options)]),
    "n4d_load_options_init": (None, [P(n4d_load_options)]),
    "n4d_model_load": (st, [vp, c_char_p, P(n4d_load_options), P(vp)]),
    "n4d_sim_checkpoint": (st, [vp, c_char_p, P(n4d_save_options)]),
    "n4d_sim_save_model": (st, [vp, c_char_p, P(n4d_save_options)]),
    "n4d_resume_options_init": (None, [P(n4d_resume_options)]),
    "n4d_sim_resume": (st, [vp, c_char_p, P(n4d_resume_options), P(vp), P(vp)]),
    "n4d_record_options_init": (None, [P(n4d_record_options)]),
    "n4d_sim_record_open": (st, [vp, c_char_p, P(n4d_record_options)]),
    "n4d_sim_record_close": (st, [vp]),
    "n4d_import_options_init": (None, [P(n4d_import_options)]),
    "n4d_model_import_4dnc": (st, [vp, c_char_p, P(n4d_import_options), P(vp)]),
    # compress.h
    "n4d_compress_options_init": (None, [P(n4d_compress_options)]),
    "n4d_sim_compression_enable": (st, [vp, P(n4d_compress_options)]),
    "n4d_sim_compression_disable": (st, [vp]),
    "n4d_sim_compression_stats": (st, [vp, P(n4d_compress_stats)]),
    "n4d_sim_restore_neuron": (st, [vp, c_uint64]),
    "n4d_sim_compressed_neurons": (st, [vp, P(c_uint8), c_uint64]),
    # distributed.h
    "n4d_comm_init": (None, [P(n4d_comm)]),
    "n4d_model_set_comm": (st, [vp, P(n4d_comm)]),
    "n4d_model_dist_info": (st, [vp, P(n4d_dist_info)]),
    "n4d_sim_dist_stats": (st, [vp, P(n4d_dist_stats)]),
    # partition.h
    "n4d_partition_options_init": (None, [P(n4d_partition_options)]),
    "n4d_partition_compute": (st, [vp, c_uint32, P(n4d_partition_options),
                                   P(P(n4d_partition_result))]),
    "n4d_partition_layout": (st, [vp, P(P(n4d_partition_result))]),
    "n4d_partition_result_destroy": (None, [P(n4d_partition_result)]),
    # zorder.h
    "n4d_morton_encode4": (c_uint64, [P(c_uint32)]),
    "n4d_morton_decode4": (None, [c_uint64, P(c_uint32)]),
    "n4d_access_pattern": (st, [P(c_uint64), c_size_t, P(n4d_access_stats)]),
    "n4d_locality_score": (c_double, [P(c_uint64), c_size_t]),
    "n4d_model_target_jumps": (st, [vp, c_int32, P(n4d_access_stats)]),
    # profile.h (memory)
    "n4d_memory_snapshot": (st, [vp, c_char_p, P(n4d_mem_snapshot)]),
    "n4d_memory_diff": (st, [P(n4d_mem_snapshot), P(n4d_mem_snapshot), P(n4d_mem_diff)]),
    "n4d_memory_report": (st, [P(n4d_mem_snapshot), c_size_t, c_char_p, c_size_t,
                               P(c_size_t)]),
    "n4d_optimize_memory": (st, [vp, c_uint32, P(n4d_memory_optimization)]),
    "n4d_sim_optimize_memory": (st, [vp, c_uint32, P(n4d_memory_optimization)]),
    # profile.h
    "n4d_sim_profile_enable": (st, [vp, c_int]),
    "n4d_sim_profile_enabled": (c_int, [vp]),
    "n4d_sim_profile_reset": (st, [vp]),
    "n4d_sim_profile_start": (st, [vp, c_char_p]),
    "n4d_sim_profile_stop": (st, [vp, c_char_p]),
    "n4d_sim_profile_add": (st, [vp, c_char_p, c_double]),
    "n4d_sim_profile_get": (st, [vp, P(n4d_profile_entry), c_size_t, P(c_size_t)]),
    "n4d_sim_profile_report": (st, [vp, c_char_p, c_size_t, P(c_size_t)]),
    # gpu.h
    "n4d_gpu_options_init": (None, [P(n4d_gpu_options)]),
    "n4d_gpu_device_count": (c_int32, []),
    "n4d_gpu_create": (st, [vp, P(n4d_gpu_options), P(vp)]),
    "n4d_gpu_destroy": (None, [vp]),
    "n4d_gpu_last_error": (c_char_p, [vp]),
    "n4d_gpu_is_available": (c_int, [vp]),
    "n4d_gpu_get_info": (st, [vp, P(n4d_gpu_info)]),
    "n4d_gpu_select_device": (st, [vp, c_int32]),
    "n4d_gpu_memory_usage": (st, [vp, P(n4d_gpu_memory)]),
    "n4d_gpu_clear_memory": (st, [vp, P(c_uint64)]),
    "n4d_gpu_lif_params_init": (None, [P(n4d_gpu_lif_params)]),
    "n4d_gpu_lif_update": (st, [vp, P(n4d_gpu_lif_params), c_uint64, P(c_float), P(c_float),
                                P(c_float), P(c_uint8), P(c_float), P(c_uint8), P(c_uint64)]),
    "n4d_gpu_spmv": (st, [vp, P(n4d_gpu_csr), P(c_float), P(c_float)]),
    "n4d_gpu_sparse_synapse_matmul": (st, [vp, P(n4d_gpu_csr), P(c_uint8), P(c_float)]),
    "n4d_gpu_gemm_init": (None, [P(n4d_gpu_gemm)]),
    "n4d_gpu_gemm_batched": (st, [vp, P(n4d_gpu_gemm)]),
    "n4d_gpu_benchmark_options_init": (None, [P(n4d_gpu_benchmark_options)]),
    "n4d_gpu_benchmark": (st, [vp, P(n4d_gpu_benchmark_options), P(n4d_gpu_benchmark_result)]),
}

_LIB = None
_LIB_PATH = None


class LibraryNotFound(ImportError):
    """libn4d could not be found or is too old / of another major version."""


def _candidates():
    """Where to look for libn4d, in order (docs/python.md, "Finding the library")."""
    env = os.environ.get("N4D_LIBRARY")
    if env:
        if os.path.isdir(env):
            yield from sorted(glob.glob(os.path.join(env, "libn4d.so*")), key=len)
        else:
            yield env
        return  # an explicit choice: nothing else is tried
    # a build tree of the checkout the package lies in (<repo>/python/n4d, only
    # when <repo> is an n4d source tree: an installed package looks nowhere
    # near itself): build/ first, then the other build*/ newest first, never
    # a sanitizer build (its library cannot be loaded into a plain interpreter)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    if (os.path.exists(os.path.join(repo, "CMakeLists.txt")) and
            os.path.exists(os.path.join(repo, "python", "pyproject.toml"))):
        found = [p for p in glob.glob(os.path.join(repo, "build*", "src", "libn4d.so"))
                 if not _sanitized(p)]
        found.sort(key=lambda p: (os.path.basename(os.path.dirname(os.path.dirname(p))) != "build",
                                  -os.path.getmtime(p)))
        yield from found
    # installed: the dynamic loader's search (ldconfig cache, LD_LIBRARY_PATH), then
    # the usual prefixes in case ldconfig was not run after `make install`
    name = ctypes.util.find_library("n4d")
    if name:
        yield name
    yield SONAME
    for d in ("/usr/local/lib", "/usr/local/lib64", "/usr/lib/x86_64-linux-gnu",
              "/usr/lib64", "/usr/lib"):
        yield os.path.join(d, SONAME)


def _sanitized(path):
    """Whether the library at path was built with ASan or TSan (it needs its
    runtime loaded first: loading it would end the interpreter)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"libasan.so" in data or b"libtsan.so" in data


def _loaded_path(name):
    """The file the dynamic loader mapped for a library loaded by its name."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip("\n").split(None, 5)[-1]
                if os.path.basename(path).startswith("libn4d.so"):
                    return path
    except OSError:
        pass
    return name


def _bind(cdll):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(cdll, name)  # AttributeError: the library lacks a symbol
        fn.restype = restype
        fn.argtypes = argtypes


def lib():
    """The loaded libn4d (loaded and checked on first use)."""
    global _LIB, _LIB_PATH
    if _LIB is not None:
        return _LIB
    tried = []
    for path in _candidates():
        try:
            cdll = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        ver = ctypes.CFUNCTYPE(c_char_p)(("n4d_version_string", cdll))().decode()
        major, minor = (int(x) for x in ver.split(".")[:2])
        if not abi_compatible(major, minor):
            need = ("%d.%d" % (ABI_MAJOR, ABI_MIN_MINOR) if ABI_MAJOR == 0 else
                    "%d.%d or newer within %d.x" % (ABI_MAJOR, ABI_MIN_MINOR, ABI_MAJOR))
            tried.append("%s (version %s; these bindings need %s)" % (path, ver, need))
            continue
        try:
            _bind(cdll)
        except AttributeError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        _LIB = cdll
        _LIB_PATH = os.path.abspath(path) if os.sep in path else _loaded_path(path)
        return _LIB
    raise LibraryNotFound(
        "libn4d not found; set N4D_LIBRARY to the library file (e.g. build/src/libn4d.so) "
        "or install n4d. Tried: " + ("; ".join(tried) if tried else "nothing"))


def library_path():
    """Path of the loaded library (loading it if needed)."""
    lib()
    return _LIB_PATH
