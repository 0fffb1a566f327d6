/* N4D_CLONES: compile a function for AVX-512, AVX2 and the baseline and
 * pick the best at load time (GCC's target_clones on x86-64; nothing
 * elsewhere, or under the sanitizers, whose instrumentation the resolver
 * would run before it is set up). Only for loops whose results do not
 * depend on the vector width: IEEE operations lane by lane, no FMA
 * contraction (the build sets -ffp-contract=off). */
#ifndef N4D_CLONES_H
#define N4D_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(N4D_NO_CLONES)
#define N4D_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define N4D_CLONES
#endif

#endif
