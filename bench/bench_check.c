/*
 * bench_check.c - the round trip of a benchmark bundle: strata__bundle_open,
 * then strata__bundle_inflate of every section. Linked by bundle_bench.sh
 * with the generated object of namespace "bench". Prints the sizes, the
 * count of sections and bytes inflated and the time taken; exits non-zero on
 * any failure. With one argument, writes the image to that file instead.
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
    const strata_bundle *e = &strata_bundle_bench;
    strata_bundle_data *b = NULL;
    strata_buf err;
    uint32_t i, blocks_z = 0;
    size_t bytes = 0;
    double t0, t1, t2;
    int st;

    /* bench_check IMAGE.bin: the raw image, for the byte-list variant */
    if (argc == 2)
        return dump(argv[1], e->image, e->image_len);
    strata__buf_init(&err, NULL);
    t0 = now();
    st = strata__bundle_open(e, NULL, &b, &err);
    t1 = now();
    if (st != STRATA_OK) {
        fprintf(stderr, "bench_check: open: %s\n", err.data ? err.data : "failed");
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
    for (i = 0; i < b->nblocks; i++)
        blocks_z += b->blocks[i].zlen;
    printf("sizes: image=%u blocks=%u tables=%u nblocks=%u sections_text=%zu\n",
           (unsigned)e->image_len, (unsigned)blocks_z, (unsigned)(e->image_len - blocks_z),
           (unsigned)b->nblocks, bytes);
    printf("roundtrip ok: %u migrations, %u sections in %u blocks, %zu bytes inflated; "
           "open %.3f s, inflate all %.3f s (%.1f us/section)\n",
           (unsigned)b->nmigrations, (unsigned)b->nsections, (unsigned)b->nblocks, bytes, t1 - t0,
           t2 - t1, b->nsections ? (t2 - t1) * 1e6 / b->nsections : 0.0);
    strata__bundle_close(b);
    strata__buf_free(&err);
    return 0;
}
