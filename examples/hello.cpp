// hello.cpp — load a JSON config from C++, run it, print a summary.
//
//   hello_cpp examples/configs/cuba.json [STEPS]
//
// The C handles are owned by std::unique_ptr with custom deleters, so every
// exit path (including exceptions) releases them in the right order.
#include <n4d.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct ContextDeleter {
    void operator()(n4d_context *c) const { n4d_context_destroy(c); }
};
struct ModelDeleter {
    void operator()(n4d_model *m) const { n4d_model_destroy(m); }
};
struct SimDeleter {
    void operator()(n4d_sim *s) const { n4d_sim_destroy(s); }
};
using Context = std::unique_ptr<n4d_context, ContextDeleter>;
using Model = std::unique_ptr<n4d_model, ModelDeleter>;
using Sim = std::unique_ptr<n4d_sim, SimDeleter>;

// Throws with the library's detail for `handle` when `st` is an error.
void check(n4d_status st, const void *handle, const char *what)
{
    if (st != N4D_OK) {
        std::string msg = std::string(what) + ": " + n4d_status_string(st);
        const char *detail = n4d_last_error(handle);
        if (detail && *detail)
            msg += std::string(" (") + detail + ")";
        throw std::runtime_error(msg);
    }
}

void print_warning(void *, int32_t level, const char *message)
{
    std::fprintf(stderr, "hello_cpp: %s: %s\n", level == N4D_LOG_ERROR ? "error" : "warning",
                 message);
}

Context make_context()
{
    n4d_context_options opt;
    n4d_context_options_init(&opt);
    opt.log = print_warning;
    n4d_context *raw = nullptr;
    check(n4d_context_create(&opt, &raw), nullptr, "n4d_context_create");
    return Context(raw);
}

Model load_model(n4d_context *ctx, const char *path)
{
    n4d_model *raw = nullptr;
    check(n4d_model_from_json_file(ctx, path, &raw), ctx, "n4d_model_from_json_file");
    return Model(raw);
}

Sim make_sim(n4d_model *model)
{
    n4d_sim *raw = nullptr;
    check(n4d_sim_create(model, nullptr, &raw), model, "n4d_sim_create");
    return Sim(raw);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s CONFIG.json [STEPS]\n", argv[0]);
        return 2;
    }
    try {
        // Declaration order = reverse destruction order: sim, model, context.
        Context ctx = make_context();
        Model model = load_model(ctx.get(), argv[1]);
        check(n4d_model_build(model.get()), model.get(), "n4d_model_build");
        Sim sim = make_sim(model.get());

        const double dt = n4d_sim_dt(sim.get());
        std::uint64_t steps = 0;
        if (argc == 3) {
            char *end = nullptr;
            steps = std::strtoull(argv[2], &end, 10);
            if (argv[2][0] < '0' || argv[2][0] > '9' || *end != '\0' || steps == 0)
                throw std::invalid_argument(std::string("bad STEPS: ") + argv[2]);
        } else {
            double duration = n4d_model_default_duration(model.get());
            steps = static_cast<std::uint64_t>((duration > 0 ? duration : 1000.0) / dt + 0.5);
        }
        check(n4d_sim_run(sim.get(), steps), sim.get(), "n4d_sim_run");

        const std::uint64_t neurons = n4d_model_num_neurons(model.get());
        const std::uint64_t spikes = n4d_sim_total_spikes(sim.get());
        const double seconds = static_cast<double>(steps) * dt / 1000.0;
        std::printf("config:    %s\n", argv[1]);
        std::printf("neurons:   %" PRIu64 "\n", neurons);
        std::printf("synapses:  %" PRIu64 "\n", n4d_model_num_synapses(model.get()));
        std::printf("simulated: %.1f ms on %s\n", seconds * 1000.0, n4d_sim_backend(sim.get()));
        std::printf("spikes:    %" PRIu64 " (%.2f Hz per neuron)\n", spikes,
                    neurons ? static_cast<double>(spikes) / static_cast<double>(neurons) / seconds
                            : 0.0);
        std::printf("checksum:  %016" PRIx64 "\n", n4d_sim_checksum(sim.get()));
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hello_cpp: %s\n", e.what());
        return 1;
    }
}
