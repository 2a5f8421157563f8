/*
 * bench_check.c - the round trip of a benchmark bundle: strata__bundle_verify,
 * then strata__bundle_inflate of every section (which checks each text against
 * its exact checksum). Linked by bundle_bench.sh with the generated object of
 * namespace "bench". Prints the count of sections and bytes inflated and the
 * time taken; exits non-zero on any failure. With two arguments, writes the
 * strings and payload arrays to those files instead.
 */
#include "bundle_read.h"

#include <stdio.h>
#include <time.h>

extern const strata_bundle strata_bundle_bench;

static double now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes n bytes to path; 0 on success. */
static int dump(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const strata_bundle *b = &strata_bundle_bench;
    strata_buf err;
    uint32_t i;
    size_t bytes = 0;
    double t0, t1, t2;
    int st;

    /* bench_check STRINGS.bin PAYLOAD.bin: the raw arrays, for the byte-list
     * variant of the generated source */
    if (argc == 3)
        return dump(argv[1], b->strings, b->strings_len) ||
               dump(argv[2], b->payload, b->payload_len);
    strata__buf_init(&err, NULL);
    t0 = now();
    st = strata__bundle_verify(b, NULL, &err);
    t1 = now();
    if (st != STRATA_OK) {
        fprintf(stderr, "bench_check: verify: %s\n", err.data ? err.data : "failed");
        return 1;
    }
    for (i = 0; i < b->nsections; i++) {
        char *text;
        st = strata__bundle_inflate(b, &b->sections[i], NULL, &text, &err);
        if (st != STRATA_OK) {
            fprintf(stderr, "bench_check: section %u: %s\n", (unsigned)i,
                    err.data ? err.data : "inflate failed");
            return 1;
        }
        bytes += b->sections[i].len;
        strata__free(NULL, text);
    }
    t2 = now();
    printf("sizes: payload=%u strings=%u dict=%u sections_text=%zu\n", (unsigned)b->payload_len,
           (unsigned)b->strings_len, (unsigned)b->dict_len, bytes);
    printf("roundtrip ok: %u migrations, %u sections, %zu bytes inflated, dictionary %u bytes; "
           "verify %.3f s, inflate all %.3f s (%.1f us/section)\n",
           (unsigned)b->nmigrations, (unsigned)b->nsections, bytes, (unsigned)b->dict_len, t1 - t0,
           t2 - t1, b->nsections ? (t2 - t1) * 1e6 / b->nsections : 0.0);
    strata__buf_free(&err);
    return 0;
}
