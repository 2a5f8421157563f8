/*
 * libFuzzer target: a real generated bundle (tests/runtime/fixtures/v3) with
 * the input's edits applied to its image: the header, the hashes, the
 * tables' stream as inflated (then deflated again, so the edits reach the
 * decoder's checks instead of stopping at zlib) and the scripts' blocks, and
 * the image hash then recomputed. strata__bundle_open must accept or reject
 * without reading out of bounds; after it accepts, every section must
 * inflate to its declared length or be rejected. A bundle that passes is
 * read as PostgreSQL schema text when the header announces one, and
 * then run by the engine on an in-memory SQLite database (status, upgrade,
 * offline SQL, downgrade): whatever the edited graph, kinds, flags and SQL,
 * every call returns a status.
 *
 * Input: records of 5 bytes, a little-endian position in the editable bytes
 * and a byte to xor there.
 */
#include "bundle_read.h"
#include "checksum.h"
#include "image.h"
#include "image_snap.h"
#include "strata_bundle_app.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The engine's use of a bundle that verify accepted. The environment is
 * fixed (no process environment) so runs are reproducible. */
static const char *no_env(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void known(int st)
{
    if (strata_exit_code(st) < 0 || strata_errstr(st) == NULL)
        abort();
}

static void run_engine(const strata_bundle *b)
{
    strata_options o = STRATA_OPTIONS_INIT;
    const strata_report *rep = NULL;
    const char *sql = NULL;
    strata *h = NULL;
    int st;

    o.app = "fuzz";
    o.environment = STRATA_TEST;
    o.database_url = "sqlite:///:memory:";
    o.getenv = no_env;
    o.lock_wait_ms = 0;
    st = strata_open(&h, b, &o);
    known(st);
    if (st == STRATA_OK) {
        known(strata_report_read(&rep, h));
        known(strata_upgrade(h, "heads", 0));
        known(strata_verify(h));
        known(strata_upgrade_sql(&sql, h, "heads", STRATA_SECTION_POSTGRESQL));
        known(strata_downgrade(h, "base", STRATA_FORCE));
        known(strata_upgrade(h, "+1", 0));
    }
    strata_close(h);
}

static int zcopy(int deflating, const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                 size_t *outlen)
{
    z_stream z;
    int r;
    memset(&z, 0, sizeof(z));
    r = deflating ? deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY)
                  : inflateInit2(&z, -15);
    if (r != Z_OK)
        abort();
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    r = deflating ? deflate(&z, Z_FINISH) : inflate(&z, Z_FINISH);
    *outlen = z.total_out;
    if (deflating)
        deflateEnd(&z);
    else
        inflateEnd(&z);
    return r == Z_STREAM_END ? 0 : -1;
}

/* A line of the schema text: read to its end. */
static int one_line(void *ctx, const char *line)
{
    (void)ctx;
    return strlen(line) < SIZE_MAX ? STRATA_OK : STRATA_ERROR;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const strata_bundle *real = &strata_bundle_app;
    const unsigned char *ri = real->image;
    strata_bundle b = *real;
    uint32_t hashes_len = strata__image_get32(ri + 32), meta_zlen = strata__image_get32(ri + 24),
             meta_len = strata__image_get32(ri + 28);
    size_t head = STRATA_IMAGE_HEADER + hashes_len, tail = real->image_len - head - meta_zlen;
    size_t zcap = meta_len + meta_len / 8 + 64, mlen = 0, zlen = 0, total, r, i;
    unsigned char *meta = malloc(meta_len + 1u), *img = malloc(head + zcap + tail);
    strata_bundle_data *d = NULL;
    strata_buf err;
    struct {
        unsigned char *p;
        size_t n;
    } region[3];
    int st;

    if (!meta || !img || zcopy(0, ri + head, meta_zlen, meta, meta_len, &mlen) || mlen != meta_len)
        abort(); /* the harness, not the library */
    memcpy(img, ri, head);
    region[0].p = img;
    region[0].n = head;
    region[1].p = meta;
    region[1].n = meta_len;
    region[2].p = img + head + zcap; /* the blocks, moved into place below */
    region[2].n = tail;
    memcpy(region[2].p, ri + head + meta_zlen, tail);
    total = head + meta_len + tail;
    for (i = 0; i + 5 <= n; i += 5) {
        size_t pos = (data[i] | (size_t)data[i + 1] << 8 | (size_t)data[i + 2] << 16 |
                      (size_t)data[i + 3] << 24) %
                     total;
        for (r = 0; pos >= region[r].n; r++)
            pos -= region[r].n;
        region[r].p[pos] ^= data[i + 4];
    }
    if (zcopy(1, meta, meta_len, img + head, zcap, &zlen))
        abort();
    memmove(img + head + zlen, img + head + zcap, tail);
    /* the tables' stream as deflated again: its lengths in the header */
    img[24] = (unsigned char)zlen;
    img[25] = (unsigned char)(zlen >> 8);
    img[26] = (unsigned char)(zlen >> 16);
    img[27] = (unsigned char)(zlen >> 24);
    b.image = img;
    b.image_len = (uint32_t)(head + zlen + tail);
    b.image_hash = strata__hash64_of(img, b.image_len);

    strata__buf_init(&err, NULL);
    st = strata__bundle_open(&b, NULL, &d, &err);
    if (st != STRATA_OK && st != STRATA_INTEGRITY)
        abort();
    if (n < 5 && st != STRATA_OK)
        abort(); /* the untouched bundle must pass: else the harness is wrong */
    for (i = 0; st == STRATA_OK && i < d->nsections; i++) {
        const strata_bundle_section *s = &d->sections[i];
        char *text = NULL;
        int ist = strata__bundle_inflate(d, s, NULL, &text, &err);
        if ((ist != STRATA_OK && ist != STRATA_INTEGRITY) ||
            (ist == STRATA_OK && strlen(text) > s->len))
            abort();
        strata__free(NULL, text);
    }
    if (st == STRATA_OK) { /* the PostgreSQL schema text, when an edit announces one */
        strata_image_snaps t;
        uint32_t k;
        int has, tst = strata__image_snap_open(d, NULL, &t, &err);
        if (tst != STRATA_OK && tst != STRATA_INTEGRITY)
            abort();
        for (k = 0; tst == STRATA_OK && k <= d->nmigrations; k++) {
            int gst = strata__image_snap_get(&t, k, one_line, NULL, &has);
            if (gst != STRATA_OK && gst != STRATA_INTEGRITY)
                abort();
        }
        strata__image_snap_close(&t);
    }
    strata__bundle_close(d);
    if (st == STRATA_OK)
        run_engine(&b);
    strata__buf_free(&err);
    free(meta);
    free(img);
    return 0;
}
