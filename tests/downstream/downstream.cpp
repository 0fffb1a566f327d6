// downstream.cpp — a user's C++ program: loads a config, runs it on the
// cpu-ref backend (the checksum is the same on every backend), prints the
// spike train's checksum as the n4d program does.
//
//   downstream_cpp CONFIG STEPS
#include <n4d.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {
struct Free {
    void operator()(n4d_context *c) const { n4d_context_destroy(c); }
    void operator()(n4d_model *m) const { n4d_model_destroy(m); }
    void operator()(n4d_sim *s) const { n4d_sim_destroy(s); }
};

int fail(const void *handle)
{
    std::fprintf(stderr, "downstream_cpp: %s\n", n4d_last_error(handle));
    return 1;
}
} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: downstream_cpp CONFIG STEPS\n");
        return 2;
    }
    n4d_context *c = nullptr;
    if (n4d_context_create(nullptr, &c) != N4D_OK)
        return 1;
    std::unique_ptr<n4d_context, Free> ctx(c);
    n4d_model *m = nullptr;
    if (n4d_model_from_json_file(ctx.get(), argv[1], &m) != N4D_OK)
        return fail(ctx.get());
    std::unique_ptr<n4d_model, Free> model(m);
    if (n4d_model_build(model.get()) != N4D_OK)
        return fail(model.get());
    n4d_sim_options opt;
    n4d_sim_options_init(&opt);
    opt.backend = "cpu-ref";
    n4d_sim *s = nullptr;
    if (n4d_sim_create(model.get(), &opt, &s) != N4D_OK)
        return fail(model.get());
    std::unique_ptr<n4d_sim, Free> sim(s);
    if (n4d_sim_run(sim.get(), std::strtoull(argv[2], nullptr, 10)) != N4D_OK)
        return fail(sim.get());
    std::printf("n4d %s\nchecksum: %016" PRIx64 "\n", n4d_version_string(),
                n4d_sim_checksum(sim.get()));
    return 0;
}
