/*
 * emit.c - the generated C source of a bundle (strata/bundle.h).
 *
 * Output depends only on the parsed migrations, the namespace and the source
 * directory given: no time, host, build path or input order. Binary data goes
 * into string literals with 3-digit octal escapes (never hex, whose escapes
 * are greedy) and '?' escaped (no trigraphs), so no file name, message or byte
 * can end a literal or a comment early, and compilers parse it far faster
 * than a list of numbers.
 */
#include "bundler.h"
#include "image.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef STRATA_HAVE_PTHREAD
#include <pthread.h>
#endif

#define LITERAL_COLS 200 /* source columns per literal line */

/* Appends data as adjacent string literals, one per output line. An octal
 * escape takes only the digits it needs unless an octal digit follows. */
static void put_literal(strata_buf *b, const unsigned char *s, size_t n, const char *indent)
{
    size_t i, col = 0, il = strlen(indent);
    char *o;

    if (n == 0) {
        strata__buf_put(b, indent, il);
        strata__buf_puts(b, "\"\"");
        return;
    }
    /* worst case: 4 bytes per input byte, plus line breaks and indents */
    if (n > (SIZE_MAX - 64) / 5 - il ||
        strata__buf_reserve(b, n * 4 + (n / (LITERAL_COLS / 4) + 2) * (il + 4)) < 0) {
        b->oom = 1;
        return;
    }
    o = b->data + b->len;
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (col == 0) {
            memcpy(o, indent, il);
            o += il;
            *o++ = '"';
            col = 1;
        }
        if (c == '"' || c == '\\' || c == '?') {
            *o++ = '\\';
            *o++ = (char)c;
            col += 2;
        } else if (c >= 0x20 && c < 0x7f) {
            *o++ = (char)c;
            col++;
        } else {
            int full = i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7';
            *o++ = '\\';
            if (full || c >= 0100)
                *o++ = (char)('0' + (c >> 6));
            if (full || c >= 010)
                *o++ = (char)('0' + ((c >> 3) & 7));
            *o++ = (char)('0' + (c & 7));
            col += 4;
        }
        if (col >= LITERAL_COLS && i + 1 < n) {
            *o++ = '"';
            *o++ = '\n';
            col = 0;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

static void put_hash(strata_buf *b, strata_hash128 h)
{
    /* plain constants, not UINT64_C(): thousands of macro expansions are
     * what a compiler spends most of its time on in the tables */
    strata__buf_printf(b, "{0x%llxu, 0x%llxu}", (unsigned long long)h.hi, (unsigned long long)h.lo);
}

/*
 * A table twice: on little-endian targets (__BYTE_ORDER__, which GCC and
 * Clang define) as one string literal of its in-memory image, overlaid by a
 * union; elsewhere as ordinary initializers. Both give the same values. The
 * literal is what makes thousands of migrations compile fast: a compiler
 * spends microseconds on every initializer element and almost nothing on a
 * byte of a string. The layouts have no padding on any ABI (every 64-bit
 * field is at a multiple of 8), which the generated file asserts.
 */
static void emit_table(strata_buf *src, const char *type, const char *name, size_t count,
                       const strata_buf *text, const strata_buf *image)
{
    strata__buf_printf(src,
                       "#if STRATA_BUNDLE_LE_\n"
                       "static const union {\n    unsigned char bytes[%zu];\n    %s t[%zu];\n"
                       "} %s_u = {\n",
                       image->len + 1, type, count, name); /* + 1: room for the NUL */
    put_literal(src, (const unsigned char *)image->data, image->len, "    ");
    strata__buf_printf(src, "};\n#define %s_ %s_u.t\n#else\nstatic const %s %s[] = {\n", name, name,
                       type, name);
    strata__buf_put(src, text->data, text->len);
    strata__buf_printf(src, "};\n#define %s_ %s\n#endif\n\n", name, name);
}

/*
 * The preset dictionary. Each section is deflated alone, so that a program
 * inflates only the sections it runs; alone, a 1 KB script compresses
 * poorly. A dictionary of the text that recurs across the bundle (keywords,
 * table and column names, whole clauses) gives every section something to
 * refer back to. It is built like zstd's COVER: the document frequency of
 * every k-byte string of a sample of the sections, then per epoch (a slice
 * of the sample) the segment whose k-mers are in the most sections; a chosen
 * k-mer scores nothing afterwards. The best segments go last, nearest to the
 * data. Everything depends only on the section texts in apply order.
 */
#define DICT_MAX       32768u     /* deflate's window */
#define DICT_MIN       1024u      /* below this a dictionary does not pay */
#define DICT_K         8u         /* k-mer length */
#define DICT_SEG       64u        /* segment length */
#define DICT_SAMPLE    (4u << 20) /* bytes of sections sampled */
#define DICT_HASH_BITS 20

typedef struct text_ref {
    const char *p;
    size_t n;
} text_ref;

typedef struct dict_seg {
    uint64_t score;
    size_t epoch;
    size_t at;
} dict_seg;

static uint32_t kmer_hash(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) /* DICT_K == 8, little-endian whatever the host */
        v = v << 8 | p[i];
    v ^= v >> 29;
    return (uint32_t)((v * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - DICT_HASH_BITS));
}

static int seg_cmp(const void *a, const void *b)
{
    const dict_seg *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

static int build_dictionary(const text_ref *t, size_t nt, strata_buf *dict)
{
    size_t i, q, e, total = 0, stride, max, nep, ep, nseg = 0, len, cap;
    uint32_t *df = NULL, *stamp = NULL, *score = NULL;
    unsigned char *sample = NULL;
    dict_seg *segs = NULL;
    int st = STRATA_NOMEM;

    for (i = 0; i < nt; i++)
        total += t[i].n;
    max = total / 16 < DICT_MAX ? total / 16 : DICT_MAX;
    max -= max % DICT_SEG;
    if (max < DICT_MIN)
        return STRATA_OK; /* no dictionary */
    stride = total / DICT_SAMPLE + 1;
    cap = total < DICT_SAMPLE + DICT_SAMPLE / 4 ? total : DICT_SAMPLE + DICT_SAMPLE / 4;
    sample = malloc(cap);
    df = calloc((size_t)1 << DICT_HASH_BITS, sizeof(*df));
    stamp = calloc((size_t)1 << DICT_HASH_BITS, sizeof(*stamp));
    if (!sample || !df || !stamp)
        goto done;

    /* the sample: about one section in `stride` (a fixed pseudo-random
     * choice, so up and down sections alike), and the document frequency of
     * its k-mers */
    len = 0;
    for (i = 0; i < nt; i++) {
        const unsigned char *p = (const unsigned char *)t[i].p;
        if (((uint32_t)i * 2654435761u >> 7) % stride != 0 || t[i].n > cap - len)
            continue;
        memcpy(sample + len, p, t[i].n);
        for (q = 0; q + DICT_K <= t[i].n; q++) {
            uint32_t h = kmer_hash(p + q);
            if (stamp[h] != (uint32_t)i + 1) {
                stamp[h] = (uint32_t)i + 1;
                df[h]++;
            }
        }
        len += t[i].n;
    }
    nep = max / DICT_SEG;
    ep = len / nep;
    if (ep < DICT_SEG * 2) {
        st = STRATA_OK;
        goto done;
    }
    segs = malloc(nep * sizeof(*segs));
    score = malloc(ep * sizeof(*score));
    if (!segs || !score)
        goto done;
    for (e = 0; e < nep; e++) {
        const unsigned char *base = sample + e * ep;
        size_t w = DICT_SEG - DICT_K + 1, best_at = 0;
        uint64_t cur = 0, best = 0;
        for (q = 0; q + DICT_K <= ep; q++) {
            uint32_t c = df[kmer_hash(base + q)];
            score[q] = c > 1 ? c - 1 : 0;
        }
        for (q = 0; q + DICT_K <= ep; q++) {
            cur += score[q];
            if (q >= w)
                cur -= score[q - w];
            if (q + 1 >= w && cur > best) {
                best = cur;
                best_at = q + 1 - w;
            }
        }
        if (best == 0)
            continue;
        for (q = 0; q < w; q++)
            df[kmer_hash(base + best_at + q)] = 0;
        segs[nseg].score = best;
        segs[nseg].epoch = e;
        segs[nseg].at = e * ep + best_at;
        nseg++;
    }
    qsort(segs, nseg, sizeof(*segs), seg_cmp);
    for (i = 0; i < nseg; i++)
        strata__buf_put(dict, sample + segs[i].at, DICT_SEG);
    st = dict->oom ? STRATA_NOMEM : STRATA_OK;
done:
    free(sample);
    free(df);
    free(stamp);
    free(score);
    free(segs);
    return st;
}

/*
 * Raw deflate (no zlib or gzip header: nothing to parse but the stream).
 * `primed` holds the state right after deflateSetDictionary (or a fresh
 * state): copying it is much cheaper than hashing the dictionary again for
 * every section, and gives the same bytes.
 */
static int deflate_section(z_stream *primed, const char *text, size_t len, strata_buf *out)
{
    z_stream z;
    uLong bound;
    int r;

    memset(&z, 0, sizeof(z));
    r = deflateCopy(&z, primed);
    if (r != Z_OK)
        return r == Z_MEM_ERROR ? STRATA_NOMEM : STRATA_ERROR;
    bound = deflateBound(&z, (uLong)len);
    if (strata__buf_reserve(out, bound) < 0) {
        deflateEnd(&z);
        return STRATA_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    r = deflate(&z, Z_FINISH);
    if (r == Z_STREAM_END)
        out->len += z.total_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? STRATA_OK : STRATA_ERROR;
}

/* The initialisers of one table row, field by field from the row itself. */
static void put_section(strata_buf *b, const strata_bundle_section *s)
{
    strata__buf_printf(b, "    {%uu, %uu, %uu, %uu, 0x%llxu, %uu, 0u,\n     ", s->kind, s->offset,
                       s->zlen, s->len, (unsigned long long)s->zhash, s->line);
    put_hash(b, s->exact);
    strata__buf_puts(b, ", ");
    put_hash(b, s->loose);
    strata__buf_puts(b, "},\n");
}

static void put_migration(strata_buf *b, const strata_bundle_migration *m)
{
    strata__buf_printf(b, "    {%uu, %uu, %uu, %uu, %uu, %uu, %uu, %uu, %uu, 0x%xu, 0x%xu, ",
                       m->revision, m->message, m->file, m->parent, m->nparents, m->section,
                       m->nsections, m->accept, m->naccepts, m->flags, m->environments);
    strata__buf_printf(b, "%uu, %uu, %uu,\n     ", m->lock_timeout_ms, m->statement_timeout_ms,
                       m->findings);
    put_hash(b, m->exact);
    strata__buf_puts(b, ", ");
    put_hash(b, m->loose);
    strata__buf_puts(b, ",\n     ");
    put_hash(b, m->schema_sqlite);
    strata__buf_puts(b, ", ");
    put_hash(b, m->schema_postgresql);
    strata__buf_puts(b, "},\n");
}

static void put_str(strata_buf *tab, const char *s, uint32_t *off)
{
    *off = (uint32_t)tab->len;
    strata__buf_put(tab, s, strlen(s) + 1);
}

/* Sections [from, to) deflated into out, section i at out offset at[i]. */
typedef struct deflate_job {
    const text_ref *texts;
    size_t from, to;
    size_t *at;
    const strata_buf *dict;
    int level;
    strata_buf out;
    int st;
} deflate_job;

static void *deflate_run(void *arg)
{
    deflate_job *j = arg;
    z_stream z;
    size_t i;

    memset(&z, 0, sizeof(z));
    j->st = STRATA_NOMEM;
    if (deflateInit2(&z, j->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    j->st = STRATA_OK;
    if (j->dict->len &&
        deflateSetDictionary(&z, (const Bytef *)j->dict->data, (uInt)j->dict->len) != Z_OK)
        j->st = STRATA_ERROR;
    for (i = j->from; i < j->to && j->st == STRATA_OK; i++) {
        j->at[i] = j->out.len;
        j->st = deflate_section(&z, j->texts[i].p, j->texts[i].n, &j->out);
    }
    deflateEnd(&z);
    return NULL;
}

/*
 * Deflates every section, on two threads when there is enough to share: the
 * split is by index and each stream depends only on its text, the level and
 * the dictionary, so the bytes are the same whatever the thread count.
 */
static int deflate_all(const text_ref *texts, size_t nt, const strata_buf *dict, int level,
                       size_t *at, size_t *zlen, strata_buf *payload)
{
    deflate_job job[2];
    size_t i, total = 0, half = 0, acc = 0;
    int nj = 1, st = STRATA_OK, t;
#ifdef STRATA_HAVE_PTHREAD
    pthread_t th;
    int started = 0;
#endif

    for (i = 0; i < nt; i++)
        total += texts[i].n;
    if (total >= (1u << 20)) {
        for (half = 0; half < nt && acc < total / 2; half++)
            acc += texts[half].n;
        nj = 2;
    }
    for (t = 0; t < nj; t++) {
        job[t].texts = texts;
        job[t].from = nj == 1 ? 0 : (t == 0 ? 0 : half);
        job[t].to = nj == 1 ? nt : (t == 0 ? half : nt);
        job[t].at = at;
        job[t].dict = dict;
        job[t].level = level;
        job[t].st = STRATA_OK;
        strata__buf_init(&job[t].out, NULL);
    }
#ifdef STRATA_HAVE_PTHREAD
    if (nj == 2)
        started = pthread_create(&th, NULL, deflate_run, &job[1]) == 0;
    deflate_run(&job[0]);
    if (nj == 2) {
        if (started)
            pthread_join(th, NULL);
        else
            deflate_run(&job[1]);
    }
#else
    for (t = 0; t < nj; t++)
        deflate_run(&job[t]);
#endif
    for (t = 0; t < nj; t++) {
        size_t base = payload->len;
        if (st == STRATA_OK)
            st = job[t].st;
        if (st == STRATA_OK && job[t].out.oom)
            st = STRATA_NOMEM;
        if (st == STRATA_OK) {
            strata__buf_put(payload, job[t].out.data, job[t].out.len);
            for (i = job[t].from; i < job[t].to; i++) {
                size_t end = i + 1 < job[t].to ? at[i + 1] : job[t].out.len;
                zlen[i] = end - at[i];
                at[i] += base;
            }
        }
        strata__buf_free(&job[t].out);
    }
    if (st == STRATA_OK && payload->oom)
        st = STRATA_NOMEM;
    return st;
}

int emit_bundle(strata_project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, int level, const strata_hash128 *schema_sqlite,
                const strata_hash128 *schema_pg, const char *const *destructive, FILE *errf)
{
    strata_buf src, hdr, strings, payload, chain, err, secs, migs, pars, accs, dict, secimg, migimg;
    strata_bundle_migration *bmv = NULL;
    strata_bundle_section *bsv = NULL;
    uint32_t *pv = NULL;
    strata_hash128 *av = NULL;
    uint64_t tables_hash;
    size_t i, k, nsec = 0, npar = 0, nacc = 0, ntexts = 0;
    size_t *at = NULL, *zlen = NULL;
    text_ref *texts = NULL;
    int st = STRATA_NOMEM;
    strata_hash128 chainhash;
    const char *const *parents;

    strata__buf_init(&src, NULL);
    strata__buf_init(&hdr, NULL);
    strata__buf_init(&strings, NULL);
    strata__buf_init(&payload, NULL);
    strata__buf_init(&chain, NULL);
    strata__buf_init(&err, NULL);
    strata__buf_init(&secs, NULL);
    strata__buf_init(&migs, NULL);
    strata__buf_init(&pars, NULL);
    strata__buf_init(&accs, NULL);
    strata__buf_init(&dict, NULL);
    strata__buf_init(&secimg, NULL);
    strata__buf_init(&migimg, NULL);

    /* The section texts in apply order, the dictionary, the payload:
     * dictionary first, then every section's raw deflate stream. */
    for (i = 0; i < p->nfiles; i++)
        ntexts += strata__project_at(p, i)->nsections;
    texts = malloc((ntexts ? ntexts : 1) * sizeof(*texts));
    at = malloc((ntexts ? ntexts : 1) * sizeof(*at));
    zlen = malloc((ntexts ? ntexts : 1) * sizeof(*zlen));
    if (!texts || !at || !zlen)
        goto done;
    for (i = 0, ntexts = 0; i < p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        for (k = 0; k < m->nsections; k++, ntexts++) {
            texts[ntexts].p = m->text + m->sections[k].start;
            texts[ntexts].n = m->sections[k].len;
        }
    }
    st = build_dictionary(texts, ntexts, &dict);
    if (st != STRATA_OK)
        goto done;
    strata__buf_put(&payload, dict.data, dict.len);
    st = deflate_all(texts, ntexts, &dict, level, at, zlen, &payload);
    if (st != STRATA_OK)
        goto done;
    if (payload.len > UINT32_MAX - 1) {
        fprintf(errf, "strata-bundle: %s: the compressed migrations exceed 4 GiB\n", p->dir);
        st = STRATA_ERROR;
        goto done;
    }
    st = STRATA_NOMEM;

    /* The tables as the runtime will see them; their initialisers, their
     * little-endian images and the tables hash are all made from these. */
    for (i = 0; i < p->nfiles; i++) {
        npar += strata__project_at(p, i)->nparents;
        nacc += strata__project_at(p, i)->naccepts;
    }
    bmv = malloc((p->nfiles ? p->nfiles : 1) * sizeof(*bmv));
    bsv = malloc((ntexts ? ntexts : 1) * sizeof(*bsv));
    pv = malloc((npar ? npar : 1) * sizeof(*pv));
    av = malloc((nacc ? nacc : 1) * sizeof(*av));
    if (!bmv || !bsv || !pv || !av)
        goto done;
    npar = nacc = 0;
    strata__chain_begin(&chain);
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        strata_bundle_migration *bm = &bmv[i];

        memset(bm, 0, sizeof(*bm));
        put_str(&strings, m->revision, &bm->revision);
        put_str(&strings, m->message, &bm->message);
        put_str(&strings, strata__base_name(m->file), &bm->file);
        parents = (const char *const *)m->parents;
        strata__chain_add(&chain, m->revision, parents, m->nparents, m->exact, m->loose);
        bm->parent = (uint32_t)npar;
        bm->nparents = (uint32_t)m->nparents;
        bm->section = (uint32_t)nsec;
        bm->nsections = (uint32_t)m->nsections;
        bm->accept = (uint32_t)nacc;
        bm->naccepts = (uint32_t)m->naccepts;
        bm->flags = m->flags;
        bm->environments = m->environments;
        bm->lock_timeout_ms = m->lock_timeout_ms;
        bm->statement_timeout_ms = m->statement_timeout_ms;
        bm->exact = m->exact;
        bm->loose = m->loose;
        if (schema_sqlite)
            bm->schema_sqlite = schema_sqlite[i];
        if (schema_pg)
            bm->schema_postgresql = schema_pg[i];
        if (destructive && destructive[i]) {
            /* what the runtime names when production will not apply it alone */
            bm->flags |= STRATA_MIGRATION_DESTRUCTIVE;
            put_str(&strings, destructive[i], &bm->findings);
        }
        for (k = 0; k < m->nparents; k++, npar++) {
            pv[npar] = (uint32_t)strata__project_find(p, m->parents[k]);
            strata__buf_printf(&pars, "%s%uu", npar % 12 ? ", " : (npar ? ",\n    " : "    "),
                               pv[npar]);
        }
        for (k = 0; k < m->naccepts; k++, nacc++) {
            av[nacc] = m->accepts[k];
            strata__buf_puts(&accs, "    ");
            put_hash(&accs, av[nacc]);
            strata__buf_puts(&accs, ",\n");
        }
        for (k = 0; k < m->nsections; k++, nsec++) {
            const strata_section_src *x = &m->sections[k];
            strata_bundle_section *bs = &bsv[nsec];
            bs->kind = x->kind;
            bs->offset = (uint32_t)at[nsec];
            bs->zlen = (uint32_t)zlen[nsec];
            bs->len = (uint32_t)x->len;
            bs->zhash = strata__hash64_of(payload.data + at[nsec], zlen[nsec]);
            bs->line = x->line + 1; /* the text starts below its directive */
            bs->reserved = 0;
            bs->exact = x->exact;
            bs->loose = x->loose;
            put_section(&secs, bs);
            strata__image_section(&secimg, bs);
        }
        put_migration(&migs, bm);
        strata__image_migration(&migimg, bm);
    }
    if (chain.oom || strings.oom || payload.oom || secimg.oom || migimg.oom)
        goto done;
    chainhash = strata__hash128_of(chain.data, chain.len);
    tables_hash = strata__tables_hash(bsv, nsec, bmv, p->nfiles, pv, npar, av, nacc);

    if (strata__buf_reserve(&src, (payload.len + strings.len + secimg.len + migimg.len) * 4 +
                                      secs.len + migs.len + pars.len + accs.len + 4096) < 0)
        goto done;
    strata__buf_printf(&src,
                       "/* Generated by strata-bundle " STRATA_VERSION " from %zu migrations of "
                       "namespace \"%s\". Do not edit. */\n"
                       "#include <stddef.h>\n#include <stdint.h>\n#include <strata/bundle.h>\n\n"
                       "#if defined(__GNUC__) /* the long literals are the point (-Wpedantic) */\n"
                       "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n#endif\n\n"
                       "_Static_assert(STRATA_BUNDLE_FORMAT == %d, \"strata_bundle_%s.c was "
                       "generated for bundle format %d: rebuild it with the strata-bundle of the "
                       "strata you compile against\");\n\n",
                       p->nfiles, ns, STRATA_BUNDLE_FORMAT, ns, STRATA_BUNDLE_FORMAT);
    strata__buf_puts(&src, "static const char strings[] =\n");
    put_literal(&src, (const unsigned char *)(strings.data ? strings.data : ""), strings.len,
                "    ");
    strata__buf_puts(&src, ";\n\nstatic const unsigned char payload[] =\n");
    put_literal(&src, (const unsigned char *)(payload.data ? payload.data : ""), payload.len,
                "    ");
    strata__buf_puts(&src, ";\n\n");
    if (nsec || p->nfiles)
        strata__buf_puts(
            &src, "#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && "
                  "__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__\n"
                  "#define STRATA_BUNDLE_LE_ 1\n"
                  "_Static_assert(sizeof(strata_bundle_section) == 64 && "
                  "offsetof(strata_bundle_section, exact) == 32 && "
                  "sizeof(strata_bundle_migration) == 120 && "
                  "offsetof(strata_bundle_migration, exact) == 56, \"unexpected bundle table "
                  "layout\");\n#else\n#define STRATA_BUNDLE_LE_ 0\n#endif\n\n");
    if (nsec)
        emit_table(&src, "strata_bundle_section", "sections", nsec, &secs, &secimg);
    if (p->nfiles)
        emit_table(&src, "strata_bundle_migration", "migrations", p->nfiles, &migs, &migimg);
    if (npar) {
        strata__buf_puts(&src, "static const uint32_t parents[] = {\n");
        strata__buf_put(&src, pars.data, pars.len);
        strata__buf_puts(&src, "\n};\n\n");
    }
    if (nacc) {
        strata__buf_puts(&src, "static const strata_hash128 accepts[] = {\n");
        strata__buf_put(&src, accs.data, accs.len);
        strata__buf_puts(&src, "};\n\n");
    }
    strata__buf_printf(&src,
                       "extern const strata_bundle strata_bundle_%s;\n"
                       "const strata_bundle strata_bundle_%s = {\n"
                       "    STRATA_BUNDLE_FORMAT,\n    1u,\n    \"%s\",\n",
                       ns, ns, ns);
    if (source_dir) {
        put_literal(&src, (const unsigned char *)source_dir, strlen(source_dir), "    ");
        strata__buf_puts(&src, ",\n");
    } else {
        strata__buf_puts(&src, "    NULL,\n");
    }
    strata__buf_printf(&src, "    %zuu, %zuu, %zuu, %zuu, %zuu, %zuu, 0u, %zuu,\n", p->nfiles, nsec,
                       npar, nacc, strings.len, payload.len, dict.len);
    strata__buf_printf(
        &src, "    0x%llxu,\n    0x%llxu,\n    0x%llxu,\n    ",
        (unsigned long long)strata__hash64_of(strings.data ? strings.data : "", strings.len),
        (unsigned long long)(dict.len ? strata__hash64_of(dict.data, dict.len) : 0),
        (unsigned long long)tables_hash);
    put_hash(&src, chainhash);
    strata__buf_printf(&src,
                       ",\n    strings,\n    payload,\n    %s,\n    %s,\n    %s,\n    %s,\n};\n",
                       p->nfiles ? "migrations_" : "NULL", nsec ? "sections_" : "NULL",
                       npar ? "parents" : "NULL", nacc ? "accepts" : "NULL");

    strata__buf_printf(
        &hdr,
        "/* Generated by strata-bundle " STRATA_VERSION " for namespace \"%s\". "
        "Do not edit. */\n"
        "#ifndef STRATA_BUNDLE_%s_H\n#define STRATA_BUNDLE_%s_H\n\n"
        "#include <strata/bundle.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
        "extern const strata_bundle strata_bundle_%s;\n\n"
        "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
        ns, ns, ns, ns);
    if (src.oom || hdr.oom || secs.oom || migs.oom || pars.oom || accs.oom || secimg.oom ||
        migimg.oom)
        goto done;
    st = strata__write_if_changed(out_c, src.data, src.len, &err);
    if (st == STRATA_OK)
        st = strata__write_if_changed(out_h, hdr.data, hdr.len, &err);
    if (st == STRATA_ERROR)
        fprintf(errf, "strata-bundle: %s\n", err.data ? err.data : "write failed");
done:
    free(texts);
    free(at);
    free(zlen);
    strata__buf_free(&src);
    strata__buf_free(&hdr);
    strata__buf_free(&strings);
    strata__buf_free(&payload);
    strata__buf_free(&chain);
    strata__buf_free(&err);
    strata__buf_free(&secs);
    strata__buf_free(&migs);
    strata__buf_free(&pars);
    strata__buf_free(&accs);
    strata__buf_free(&dict);
    strata__buf_free(&secimg);
    strata__buf_free(&migimg);
    free(bmv);
    free(bsv);
    free(pv);
    free(av);
    return st;
}
