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

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int namespace_valid(const char *ns)
{
    size_t i, n = strlen(ns);

    if (n == 0 || n > 32 || !(ns[0] >= 'a' && ns[0] <= 'z'))
        return 0;
    for (i = 0; i < n; i++)
        if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= '0' && ns[i] <= '9') || ns[i] == '_'))
            return 0;
    return 1;
}

/* Appends data as adjacent string literals, one per output line. */
static void put_literal(strata_buf *b, const unsigned char *s, size_t n, const char *indent)
{
    size_t i, col = 0;

    if (n == 0) {
        strata_buf_printf(b, "%s\"\"", indent);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (col == 0) {
            strata_buf_printf(b, "%s\"", indent);
            col = 1;
        }
        if (c == '"' || c == '\\' || c == '?') {
            strata_buf_putc(b, '\\');
            strata_buf_putc(b, (char)c);
            col += 2;
        } else if (c >= 0x20 && c < 0x7f) {
            strata_buf_putc(b, (char)c);
            col++;
        } else {
            strata_buf_printf(b, "\\%03o", c);
            col += 4;
        }
        if (col >= 76 && i + 1 < n) {
            strata_buf_puts(b, "\"\n");
            col = 0;
        }
    }
    strata_buf_putc(b, '"');
}

static void put_hash(strata_buf *b, strata_hash128 h)
{
    strata_buf_printf(b, "{UINT64_C(0x%016llx), UINT64_C(0x%016llx)}", (unsigned long long)h.hi,
                      (unsigned long long)h.lo);
}

/* Raw deflate (no zlib or gzip header: nothing to parse but the stream). */
static int deflate_section(const char *text, size_t len, int level, strata_buf *out)
{
    z_stream z;
    int r;
    uLong bound;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return STRATA_NOMEM;
    bound = deflateBound(&z, (uLong)len);
    if (strata_buf_reserve(out, bound) < 0) {
        deflateEnd(&z);
        return STRATA_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    r = deflate(&z, Z_FINISH);
    if (r != Z_STREAM_END) {
        deflateEnd(&z);
        return STRATA_ERROR;
    }
    out->len += z.total_out;
    deflateEnd(&z);
    return STRATA_OK;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void put_str(strata_buf *tab, const char *s, uint32_t *off)
{
    *off = (uint32_t)tab->len;
    strata_buf_put(tab, s, strlen(s) + 1);
}

int emit_bundle(project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, int level, FILE *errf)
{
    strata_buf src, hdr, strings, payload, chain, err, secs, migs, pars, accs;
    size_t i, k, nsec = 0, npar = 0, nacc = 0;
    int st = STRATA_NOMEM;
    strata_hash128 chainhash;
    const char *const *parents;

    strata_buf_init(&src, NULL);
    strata_buf_init(&hdr, NULL);
    strata_buf_init(&strings, NULL);
    strata_buf_init(&payload, NULL);
    strata_buf_init(&chain, NULL);
    strata_buf_init(&err, NULL);
    strata_buf_init(&secs, NULL);
    strata_buf_init(&migs, NULL);
    strata_buf_init(&pars, NULL);
    strata_buf_init(&accs, NULL);

    strata_chain_begin(&chain);
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = project_at(p, i);
        uint32_t orev, omsg, ofile;

        put_str(&strings, m->revision, &orev);
        put_str(&strings, m->message, &omsg);
        put_str(&strings, base_name(m->file), &ofile);
        parents = (const char *const *)m->parents;
        strata_chain_add(&chain, m->revision, parents, m->nparents, m->exact, m->loose);

        strata_buf_printf(&migs,
                          "    {%uu, %uu, %uu, %zuu, %zuu, %zuu, %zuu, %zuu, %zuu, 0x%xu, 0x%xu, ",
                          orev, omsg, ofile, npar, m->nparents, nsec, m->nsections, nacc,
                          m->naccepts, m->flags, m->environments);
        strata_buf_printf(&migs, "%luu, %luu, 0u,\n     ", (unsigned long)m->lock_timeout_ms,
                          (unsigned long)m->statement_timeout_ms);
        put_hash(&migs, m->exact);
        strata_buf_puts(&migs, ", ");
        put_hash(&migs, m->loose);
        strata_buf_puts(&migs, "},\n");

        for (k = 0; k < m->nparents; k++, npar++)
            strata_buf_printf(&pars, "%s%zuu", npar % 12 ? ", " : (npar ? ",\n    " : "    "),
                              project_find(p, m->parents[k]));
        for (k = 0; k < m->naccepts; k++, nacc++) {
            strata_buf_puts(&accs, "    ");
            put_hash(&accs, m->accepts[k]);
            strata_buf_puts(&accs, ",\n");
        }
        for (k = 0; k < m->nsections; k++, nsec++) {
            const strata_section_src *x = &m->sections[k];
            size_t off = payload.len;
            int r = deflate_section(m->text + x->start, x->len, level, &payload);
            if (r != STRATA_OK) {
                st = r;
                goto done;
            }
            if (payload.len > UINT32_MAX - 1) {
                fprintf(errf, "strata-bundle: %s: the compressed migrations exceed 4 GiB\n",
                        p->dir);
                st = STRATA_ERROR;
                goto done;
            }
            strata_buf_printf(
                &secs, "    {%uu, %zuu, %zuu, %zuu, UINT64_C(0x%016llx),\n     ", x->kind, off,
                payload.len - off, x->len,
                (unsigned long long)strata_hash64_of(payload.data + off, payload.len - off));
            put_hash(&secs, x->exact);
            strata_buf_puts(&secs, ", ");
            put_hash(&secs, x->loose);
            strata_buf_puts(&secs, "},\n");
        }
    }
    if (chain.oom || strings.oom || payload.oom)
        goto done;
    chainhash = strata_hash128_of(chain.data, chain.len);

    strata_buf_printf(&src,
                      "/* Generated by strata-bundle " STRATA_VERSION " from %zu migrations of "
                      "namespace \"%s\". Do not edit. */\n"
                      "#include <stdint.h>\n#include <strata/bundle.h>\n\n"
                      "_Static_assert(STRATA_BUNDLE_FORMAT == 1, \"strata_bundle_%s.c was "
                      "generated for bundle format 1: rebuild it with the strata-bundle of the "
                      "strata you compile against\");\n\n",
                      p->nfiles, ns, ns);
    strata_buf_puts(&src, "static const char strings[] =\n");
    put_literal(&src, (const unsigned char *)(strings.data ? strings.data : ""), strings.len,
                "    ");
    strata_buf_puts(&src, ";\n\nstatic const unsigned char payload[] =\n");
    put_literal(&src, (const unsigned char *)(payload.data ? payload.data : ""), payload.len,
                "    ");
    strata_buf_puts(&src, ";\n\n");
    if (nsec)
        strata_buf_printf(&src, "static const strata_bundle_section sections[] = {\n%s};\n\n",
                          secs.data);
    if (p->nfiles)
        strata_buf_printf(&src, "static const strata_bundle_migration migrations[] = {\n%s};\n\n",
                          migs.data);
    if (npar)
        strata_buf_printf(&src, "static const uint32_t parents[] = {\n%s\n};\n\n", pars.data);
    if (nacc)
        strata_buf_printf(&src, "static const strata_hash128 accepts[] = {\n%s};\n\n", accs.data);
    strata_buf_printf(&src,
                      "extern const strata_bundle strata_bundle_%s;\n"
                      "const strata_bundle strata_bundle_%s = {\n"
                      "    STRATA_BUNDLE_FORMAT,\n    1u,\n    \"%s\",\n",
                      ns, ns, ns);
    if (source_dir) {
        put_literal(&src, (const unsigned char *)source_dir, strlen(source_dir), "    ");
        strata_buf_puts(&src, ",\n");
    } else {
        strata_buf_puts(&src, "    NULL,\n");
    }
    strata_buf_printf(&src, "    %zuu, %zuu, %zuu, %zuu, %zuu, %zuu,\n", p->nfiles, nsec, npar,
                      nacc, strings.len, payload.len);
    strata_buf_printf(
        &src, "    UINT64_C(0x%016llx),\n    ",
        (unsigned long long)strata_hash64_of(strings.data ? strings.data : "", strings.len));
    put_hash(&src, chainhash);
    strata_buf_printf(&src,
                      ",\n    strings,\n    payload,\n    %s,\n    %s,\n    %s,\n    %s,\n};\n",
                      p->nfiles ? "migrations" : "NULL", nsec ? "sections" : "NULL",
                      npar ? "parents" : "NULL", nacc ? "accepts" : "NULL");

    strata_buf_printf(&hdr,
                      "/* Generated by strata-bundle " STRATA_VERSION " for namespace \"%s\". "
                      "Do not edit. */\n"
                      "#ifndef STRATA_BUNDLE_%s_H\n#define STRATA_BUNDLE_%s_H\n\n"
                      "#include <strata/bundle.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
                      "extern const strata_bundle strata_bundle_%s;\n\n"
                      "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
                      ns, ns, ns, ns);
    if (src.oom || hdr.oom || secs.oom || migs.oom || pars.oom || accs.oom)
        goto done;
    st = write_if_changed(out_c, src.data, src.len, &err);
    if (st == STRATA_OK)
        st = write_if_changed(out_h, hdr.data, hdr.len, &err);
    if (st == STRATA_ERROR)
        fprintf(errf, "strata-bundle: %s\n", err.data ? err.data : "write failed");
done:
    strata_buf_free(&src);
    strata_buf_free(&hdr);
    strata_buf_free(&strings);
    strata_buf_free(&payload);
    strata_buf_free(&chain);
    strata_buf_free(&err);
    strata_buf_free(&secs);
    strata_buf_free(&migs);
    strata_buf_free(&pars);
    strata_buf_free(&accs);
    return st;
}
