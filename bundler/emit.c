/*
 * emit.c - the generated C source of a bundle (strata/bundle.h): the image
 * (runtime/src/format/image.h) as one string literal, and the bundle struct.
 *
 * Output depends only on the parsed migrations, the namespace and the source
 * directory given: no time, host, build path or input order. Binary data goes
 * into string literals with 3-digit octal escapes (never hex, whose escapes
 * are greedy) and '?' escaped (no trigraphs), so no file name, message or byte
 * can end a literal or a comment early, and compilers parse it far faster
 * than a list of numbers.
 */
#include "bundler.h"
#include "checksum.h"
#include "image.h"
#include "image_snap.h"

#include "parallel.h"

#include <stdlib.h>
#include <string.h>

/* Source columns per literal line: long lines are fewer tokens for the
 * compiler (gcc -O2 of 10,000 migrations: 0.31 s CPU at 200 columns, 0.28 s
 * at 4,000), still short enough for an editor or a diff. */
#define LITERAL_COLS 4000

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

/* Threads for the image's blocks: strata_image_runner has no context
 * argument, and the bundler makes one bundle per process. */
static unsigned deflate_jobs;

/* Each block's bytes depend only on its text, so not on the threads. */
static void run_blocks(void (*job)(void *arg, size_t i), void *arg, size_t n)
{
    strata__parallel_for(deflate_jobs, job, arg, n);
}

int emit_bundle(strata_project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, const char *const schema_files[2], int level, unsigned jobs,
                const strata_hash128 *schema_sqlite, const strata_hash128 *schema_pg,
                const strata_snapshot *snap_pg, const char *const *destructive, FILE *errf)
{
    strata_buf src, hdr, image, chain, err, cps;
    strata_image_migration *mv = NULL;
    size_t *cpat = NULL;
    strata_image_section *sv = NULL;
    strata_image_snap *snaps = NULL;
    uint32_t *pv = NULL;
    size_t i, k, nsec = 0, npar = 0;
    int st = STRATA_NOMEM;
    const char *const *parents;

    deflate_jobs = jobs;
    strata__buf_init(&src, NULL);
    strata__buf_init(&hdr, NULL);
    strata__buf_init(&image, NULL);
    strata__buf_init(&chain, NULL);
    strata__buf_init(&err, NULL);
    strata__buf_init(&cps, NULL);

    for (i = 0; i < p->nfiles; i++) {
        nsec += strata__project_at(p, i)->nsections;
        npar += strata__project_at(p, i)->nparents;
    }
    mv = calloc(p->nfiles ? p->nfiles : 1, sizeof(*mv));
    sv = calloc(nsec ? nsec : 1, sizeof(*sv));
    pv = calloc(npar ? npar : 1, sizeof(*pv));
    cpat = calloc(p->nfiles ? p->nfiles : 1, sizeof(*cpat));
    if (!mv || !sv || !pv || !cpat)
        goto done;
    nsec = npar = 0;
    strata__chain_begin(&chain);
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        strata_image_migration *im = &mv[i];

        im->revision = m->revision;
        im->message = m->message;
        im->file = strata__base_name(m->file);
        parents = (const char *const *)m->parents;
        strata__chain_add(&chain, m->revision, parents, m->nparents, m->exact, m->loose);
        im->parents = pv + npar;
        im->nparents = (uint32_t)m->nparents;
        for (k = 0; k < m->nparents; k++)
            pv[npar++] = (uint32_t)strata__project_find(p, m->parents[k]);
        im->accepts = m->accepts;
        im->naccepts = (uint32_t)m->naccepts;
        im->nsections = (uint32_t)m->nsections;
        im->flags = m->flags;
        im->environments = m->environments;
        im->lock_timeout_ms = m->lock_timeout_ms;
        im->statement_timeout_ms = m->statement_timeout_ms;
        im->exact = m->exact;
        im->loose = m->loose;
        if (schema_sqlite)
            im->schema_sqlite = schema_sqlite[i];
        if (schema_pg)
            im->schema_postgresql = schema_pg[i];
        if (destructive && destructive[i]) {
            /* what the runtime names when production will not apply it alone */
            im->flags |= STRATA_MIGRATION_DESTRUCTIVE;
            im->findings = destructive[i];
        }
        if (m->flags & STRATA_MIGRATION_CHECKPOINT) {
            /* "REV R1 R2 ...": pointed at once cps stops moving */
            cpat[i] = cps.len;
            strata__buf_puts(&cps, m->checkpoint);
            for (k = 0; k < m->nreplaces; k++)
                strata__buf_printf(&cps, " %s", m->replaces[k]);
            strata__buf_put(&cps, "", 1);
        }
        for (k = 0; k < m->nsections; k++, nsec++) {
            const strata_section_src *x = &m->sections[k];
            sv[nsec].kind = x->kind;
            sv[nsec].line = (uint32_t)x->line + 1; /* the text starts below its directive */
            sv[nsec].text = m->text + x->start;
            sv[nsec].len = x->len;
        }
    }
    if (chain.oom || cps.oom)
        goto done;
    for (i = 0; i < p->nfiles; i++)
        if (mv[i].flags & STRATA_MIGRATION_CHECKPOINT)
            mv[i].checkpoint = cps.data + cpat[i];
    /* the schema files go with source_dir: development builds only */
    st = strata__image_write(mv, p->nfiles, sv, nsec, source_dir ? schema_files : NULL,
                             strata__hash128_of(chain.data, chain.len), level, run_blocks, &image);
    /* verify's PostgreSQL snapshots as text, for drift (image_snap.h) */
    if (st == STRATA_OK && snap_pg && schema_pg) {
        if (!(snaps = calloc(p->nfiles ? p->nfiles : 1, sizeof(*snaps)))) {
            st = STRATA_NOMEM;
            goto done;
        }
        for (i = 0; i < p->nfiles; i++) {
            snaps[i].lines = (const char *const *)snap_pg[i].lines;
            snaps[i].n = snap_pg[i].n;
            snaps[i].has = schema_pg[i].hi || schema_pg[i].lo;
        }
        st = strata__image_snap_append(&image, 0, snaps, p->nfiles, level);
    }
    if (st == STRATA_ERROR)
        fprintf(errf, "strata-bundle: %s: the bundle would exceed 4 GiB\n", p->dir);
    if (st != STRATA_OK)
        goto done;
    st = STRATA_NOMEM;

    if (strata__buf_reserve(&src, image.len * 4 + 4096) < 0)
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
    strata__buf_puts(&src, "static const unsigned char image[] =\n");
    put_literal(&src, (const unsigned char *)image.data, image.len, "    ");
    strata__buf_printf(&src,
                       ";\n\nextern const strata_bundle strata_bundle_%s;\n"
                       "const strata_bundle strata_bundle_%s = {\n"
                       "    STRATA_BUNDLE_FORMAT,\n    1u,\n    \"%s\",\n",
                       ns, ns, ns);
    if (source_dir) {
        put_literal(&src, (const unsigned char *)source_dir, strlen(source_dir), "    ");
        strata__buf_puts(&src, ",\n");
    } else {
        strata__buf_puts(&src, "    NULL,\n");
    }
    strata__buf_printf(&src, "    %zuu,\n    0u,\n    0x%llxu,\n    image,\n};\n", image.len,
                       (unsigned long long)strata__hash64_of(image.data, image.len));

    strata__buf_printf(
        &hdr,
        "/* Generated by strata-bundle " STRATA_VERSION " for namespace \"%s\". "
        "Do not edit. */\n"
        "#ifndef STRATA_BUNDLE_%s_H\n#define STRATA_BUNDLE_%s_H\n\n"
        "#include <strata/bundle.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
        "extern const strata_bundle strata_bundle_%s;\n\n"
        "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
        ns, ns, ns, ns);
    if (src.oom || hdr.oom)
        goto done;
    st = strata__write_if_changed(out_c, src.data, src.len, &err);
    if (st == STRATA_OK)
        st = strata__write_if_changed(out_h, hdr.data, hdr.len, &err);
    if (st == STRATA_ERROR)
        fprintf(errf, "strata-bundle: %s\n", err.data ? err.data : "write failed");
done:
    strata__buf_free(&src);
    strata__buf_free(&hdr);
    strata__buf_free(&image);
    strata__buf_free(&chain);
    strata__buf_free(&err);
    free(mv);
    free(cpat);
    strata__buf_free(&cps);
    free(sv);
    free(snaps);
    free(pv);
    return st;
}
