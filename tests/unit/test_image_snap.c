/* The image's PostgreSQL snapshot text (image_snap.h): each migration's
 * lines come back exactly, in order, a migration without text says so, the
 * same snapshots give the same bytes, each distinct line is stored once,
 * and a damaged part (hash recomputed, so the decoder's own checks are what
 * stands) is refused at open or at read without reading out of bounds
 * (ASan runs this too). */
#include "bundle_read.h"
#include "check.h"
#include "checksum.h"
#include "image.h"
#include "image_snap.h"

#include <stdio.h>
#include <stdlib.h>

#define NM 3

typedef struct got {
    strata_buf text;
} got;

static int add(void *ctx, const char *line)
{
    got *g = ctx;
    strata__buf_printf(&g->text, "%s\n", line);
    return STRATA_OK;
}

static int write_all(const strata_image_snap *snaps, size_t nm, int nblocks, strata_buf *out)
{
    strata_image_migration m[NM];
    strata_image_section s[1];
    strata_hash128 chain = {1, 2};
    int st;

    memset(m, 0, sizeof(m));
    memset(s, 0, sizeof(s));
    m[0].revision = "0001";
    m[0].message = "a";
    m[0].file = "0001_a.sql";
    m[0].nsections = nblocks ? 1 : 0;
    m[1].revision = "0002";
    m[1].message = "b";
    m[1].file = "0002_b.sql";
    m[2].revision = "0003";
    m[2].message = "c";
    m[2].file = "0003_c.sql";
    s[0].kind = STRATA_SECTION_UP;
    s[0].text = "CREATE TABLE t (a int);\n";
    s[0].len = strlen(s[0].text);
    st = strata__image_write(m, NM, s, nblocks ? 1 : 0, NULL, chain, 9, NULL, out);
    return st == STRATA_OK ? strata__image_snap_append(out, 0, snaps, nm, 9) : st;
}

static int open_image(const strata_buf *img, strata_bundle_data **d, strata_buf *err)
{
    strata_bundle b;
    memset(&b, 0, sizeof(b));
    b.format = STRATA_BUNDLE_FORMAT;
    b.checksum = 1;
    b.ns = "t";
    b.image = (const unsigned char *)img->data;
    b.image_len = (uint32_t)img->len;
    b.image_hash = strata__hash64_of(img->data, img->len);
    strata__buf_reset(err);
    return strata__bundle_open(&b, NULL, d, err);
}

/* The image's length without the part. */
static size_t plain_len(void)
{
    strata_image_snap none[NM];
    strata_buf plain;
    size_t n;
    memset(none, 0, sizeof(none));
    strata__buf_init(&plain, NULL);
    n = write_all(none, NM, 1, &plain) == STRATA_OK ? plain.len : 0;
    strata__buf_free(&plain);
    return n;
}

static int read_one(strata_bundle_data *d, uint32_t mi, strata_buf *text, int *has, strata_buf *err)
{
    strata_image_snaps s;
    got g;
    int st;
    g.text = *text;
    strata__buf_reset(&g.text);
    *has = 0;
    st = strata__image_snap_open(d, NULL, &s, err);
    if (st == STRATA_OK)
        st = strata__image_snap_get(&s, mi, add, &g, has);
    strata__image_snap_close(&s);
    *text = g.text;
    return st;
}

int main(void)
{
    static const char *const l0[] = {"column t.a integer", "table t"};
    static const char *const l2[] = {"column t.a integer", "column t.hotfix text",
                                     "index CREATE INDEX i ON public.t USING btree (a)", "table t"};
    strata_image_snap snaps[NM];
    strata_buf img, again, err, text;
    strata_bundle_data *d = NULL;
    size_t i;
    int has = -1, nblocks, accepted = 0;

    memset(snaps, 0, sizeof(snaps));
    snaps[0].lines = l0;
    snaps[0].n = 2;
    snaps[0].has = 1;
    snaps[1].has = 0; /* not replayed */
    snaps[2].lines = l2;
    snaps[2].n = 4;
    snaps[2].has = 1;
    strata__buf_init(&img, NULL);
    strata__buf_init(&again, NULL);
    strata__buf_init(&err, NULL);
    strata__buf_init(&text, NULL);

    for (nblocks = 0; nblocks < 2; nblocks++) {
        strata__buf_reset(&img);
        strata__buf_reset(&again);
        CHECK(write_all(snaps, NM, nblocks, &img) == STRATA_OK);
        CHECK(write_all(snaps, NM, nblocks, &again) == STRATA_OK);
        CHECK(img.len == again.len && memcmp(img.data, again.data, img.len) == 0);
        CHECK(open_image(&img, &d, &err) == STRATA_OK);
        if (!d)
            continue;
        CHECK(strata__image_has_snaps(d));
        CHECK(read_one(d, 0, &text, &has, &err) == STRATA_OK && has == 1);
        CHECK_STR(text.data, "column t.a integer\ntable t\n");
        CHECK(read_one(d, 1, &text, &has, &err) == STRATA_OK && has == 0);
        CHECK(read_one(d, 2, &text, &has, &err) == STRATA_OK && has == 1);
        CHECK_STR(text.data, "column t.a integer\ncolumn t.hotfix text\nindex CREATE INDEX i ON "
                             "public.t USING btree (a)\ntable t\n");
        CHECK(read_one(d, 3, &text, &has, &err) == STRATA_OK && has == 0); /* no such migration */
        strata__bundle_close(d);
        d = NULL;
    }

    /* Each distinct line once: "table t" and "column t.a integer", in both
     * snapshots, are in the inflated part one time each. */
    {
        size_t start = plain_len();
        const unsigned char *part = (const unsigned char *)img.data + start;
        uint32_t zlen, len;
        unsigned char *raw;
        CHECK(img.len > start + 8);
        zlen = strata__image_get32(part);
        len = strata__image_get32(part + 4);
        raw = malloc(len + 1);
        CHECK(raw && strata__image_inflate(NULL, part + 8, zlen, raw, len) == 0);
        if (raw) {
            size_t k, n = 0;
            for (k = 0; k + 8 <= len; k++)
                n += memcmp(raw + k, "table t", 8) == 0; /* with its NUL */
            CHECK(n == 1);
            CHECK(raw[0] == 4); /* four distinct lines */
        }
        free(raw);
    }

    /* No text at all: nothing appended, no bit. */
    {
        strata_image_snap none[NM];
        memset(none, 0, sizeof(none));
        strata__buf_reset(&again);
        CHECK(write_all(none, NM, 1, &again) == STRATA_OK);
        CHECK(open_image(&again, &d, &err) == STRATA_OK);
        if (d) {
            CHECK(!strata__image_has_snaps(d));
            CHECK(read_one(d, 0, &text, &has, &err) == STRATA_OK && has == 0);
            strata__bundle_close(d);
            d = NULL;
        }
    }

    /* Unsorted lines are the caller's bug, refused rather than stored wrong. */
    {
        static const char *const bad[] = {"table t", "column t.a integer"};
        strata_image_snap b[NM];
        memset(b, 0, sizeof(b));
        b[0].lines = bad;
        b[0].n = 2;
        b[0].has = 1;
        strata__buf_reset(&again);
        CHECK(write_all(b, NM, 1, &again) == STRATA_ERROR);
    }

    /* The bit without the part, the part cut short: refused at open. */
    strata__buf_reset(&again);
    CHECK(write_all(snaps, NM, 1, &again) == STRATA_OK);
    again.len -= 1;
    CHECK(open_image(&again, &d, &err) == STRATA_INTEGRITY && d == NULL);
    CHECK(err.data && strstr(err.data, "(block bounds)") != NULL);

    /* Every byte of the part flipped in turn, the hash recomputed: refused
     * at open, or at read, or read in bounds. */
    {
        size_t start = plain_len();
        strata__buf_reset(&again);
        CHECK(write_all(snaps, NM, 1, &again) == STRATA_OK);
        CHECK(again.len > start + 8);
        for (i = start; i < again.len; i++) {
            uint32_t mi;
            again.data[i] ^= 0x5a;
            if (open_image(&again, &d, &err) == STRATA_OK) {
                int ok = 1;
                for (mi = 0; mi < NM; mi++) {
                    int st = read_one(d, mi, &text, &has, &err);
                    CHECK(st == STRATA_OK || st == STRATA_INTEGRITY);
                    ok &= st == STRATA_OK;
                }
                accepted += ok;
                strata__bundle_close(d);
                d = NULL;
            }
            again.data[i] ^= 0x5a;
        }
        /* deflate's own checks leave few flips unnoticed; none read wrong memory */
        printf("%d of %zu flips read without an error\n", accepted, again.len - start);
    }
    strata__buf_free(&img);
    strata__buf_free(&again);
    strata__buf_free(&err);
    strata__buf_free(&text);
    return CHECK_DONE();
}
