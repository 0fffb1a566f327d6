/* Replay driver: the harness code without libFuzzer (any compiler). Runs
 * LLVMFuzzerTestOneInput on every file named on the command line and on
 * every file of every folder named (sorted by name), and prints how many
 * ran; a harness check or a sanitizer report aborts. ctest runs it over
 * tests/fuzz/corpus/<harness>/ and tests/fuzz/regressions/<harness>/.
 *
 * -flips=N (fuzz_bitflip only): also runs mutants 0 .. N-1 of each file,
 * mutant i flipping the bits drawn from seed i (tests/fuzz/README.md), and
 * fails when a mutant loads without an error but with other results than
 * the file itself; the input being run is in $TMPDIR/n4d_fuzz_<pid>.h5, left
 * there by a crash. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_bitflip_mutant(uint8_t *data, size_t size, uint64_t i) __attribute__((weak));
void fuzz_bitflip_reference(const uint8_t *data, size_t size) __attribute__((weak));

static unsigned long long n_run;
static unsigned long long n_flips;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    /* an exact-size copy, so that ASan sees reads past the end */
    uint8_t *in = malloc(n ? n : 1);
    if (!in)
        exit(2);
    memcpy(in, buf, n);
    if (n_flips && fuzz_bitflip_reference)
        fuzz_bitflip_reference(in, n); /* mutants must fail or load the same */
    else
        LLVMFuzzerTestOneInput(in, n);
    n_run++;
    for (unsigned long long i = 0; i < n_flips; i++) {
        memcpy(in, buf, n);
        fuzz_bitflip_mutant(in, n, i);
        LLVMFuzzerTestOneInput(in, n);
        n_run++;
    }
    free(in);
    free(buf);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "%s: does not exist\n", path);
        exit(2);
    }
    if (!S_ISDIR(sb.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        exit(2);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names || !names[n])
            exit(2);
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        run_path(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "-flips=", 7)) {
            if (!fuzz_bitflip_mutant) {
                fprintf(stderr, "-flips: only for fuzz_bitflip\n");
                return 2;
            }
            n_flips = strtoull(argv[i] + 7, NULL, 10);
            continue;
        }
        n_paths++;
    }
    if (!n_paths) {
        fprintf(stderr, "usage: %s [-flips=N] FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "-flips=", 7))
            run_path(argv[i]);
    printf("%llu inputs ran\n", n_run);
    return 0;
}
