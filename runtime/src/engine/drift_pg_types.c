/*
 * drift_pg_types.c - PostgreSQL's statements for drift about types
 * (drift_pg_int.h): an enum's values added in place, or the type made again
 * with its columns converted when a value must go (PostgreSQL cannot drop
 * one); an enum or a domain with its constraints created; a composite
 * type's creation left to a comment (its attributes' order is not in the
 * snapshot).
 */
#include "drift_pg_int.h"

#include <stdlib.h>
#include <string.h>

/* An enum's labels, as the line has them: "type T enum ('a', 'b')": each
 * literal as written (quote_literal's), into v[0..*n). */
static size_t enum_labels(const char *canon, const char *t, strata_buf *line, const char **v,
                          size_t *len, size_t max)
{
    strata_buf key;
    const char *p;
    size_t n = 0;

    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "type %s", t);
    if (!key.data || !strata__pgd_canon_find(canon, key.data, line) ||
        !strata__pgd_starts(line->data + key.len, " enum (")) {
        strata__buf_free(&key);
        return SIZE_MAX;
    }
    p = line->data + key.len + 7;
    strata__buf_free(&key);
    while (*p && *p != ')' && n < max) {
        const char *s = p;
        if (*p == 'E')
            p++;
        if (*p != '\'')
            return SIZE_MAX;
        for (p++; *p; p++)
            if (*p == '\'') {
                if (p[1] != '\'')
                    break;
                p++;
            }
        if (!*p)
            return SIZE_MAX;
        p++;
        v[n] = s;
        len[n++] = (size_t)(p - s);
        if (strata__pgd_starts(p, ", "))
            p += 2;
    }
    return *p == ')' ? n : SIZE_MAX;
}

static int label_in(const char *const *v, const size_t *len, size_t n, const char *s, size_t sl)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (len[i] == sl && memcmp(v[i], s, sl) == 0)
            return 1;
    return 0;
}

/*
 * An enum on both sides: values want has and live lacks are added (ALTER
 * TYPE ... ADD VALUE, in want's place); a value live has and want lacks
 * cannot be dropped, so the type is made again and the tables' columns of
 * it converted (their defaults set again), when its name is plain.
 */
void strata__drift_pg_alter_type(strata_drift_ctx *c, const strata_schema_obj *live,
                                 const strata_schema_obj *want)
{
    /* a label takes two bytes of its line at least */
    size_t max =
        (strlen(live->canon) > strlen(want->canon) ? strlen(live->canon) : strlen(want->canon)) /
            2 +
        1;
    const char **lv = strata__malloc(NULL, max * sizeof(*lv));
    const char **wv = strata__malloc(NULL, max * sizeof(*wv));
    size_t *ll = strata__malloc(NULL, max * sizeof(*ll));
    size_t *wl = strata__malloc(NULL, max * sizeof(*wl));
    strata_buf a, b, l;
    size_t nl, nw, i, k;
    const char *t = want->name;
    int dropped = 0;

    strata__buf_init(&a, NULL);
    strata__buf_init(&b, NULL);
    strata__buf_init(&l, NULL);
    if (!lv || !wv || !ll || !wl) {
        c->sql.oom = 1;
        goto done;
    }
    nl = enum_labels(live->canon, t, &a, lv, ll, max);
    nw = enum_labels(want->canon, t, &b, wv, wl, max);
    if (nl == SIZE_MAX || nw == SIZE_MAX) {
        strata__pgd_say(
            c, STRATA_PHASE_TYPE,
            "-- type %s: not an enum on both sides (a domain or composite type changed); the "
            "statements are not derivable from the snapshot\n",
            t);
        goto done;
    }
    for (i = 0; i < nl; i++)
        if (!label_in(wv, wl, nw, lv[i], ll[i]))
            dropped = 1;
    /* the order of the values both have must be the same, too */
    for (i = k = 0; i < nw && !dropped; i++)
        if (label_in(lv, ll, nl, wv[i], wl[i])) {
            if (k >= nl || ll[k] != wl[i] || memcmp(lv[k], wv[i], wl[i]) != 0)
                dropped = 1;
            k++;
        }
    if (!dropped) {
        for (i = 0; i < nw; i++) {
            if (label_in(lv, ll, nl, wv[i], wl[i]))
                continue;
            if (i > 0)
                strata__pgd_say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s AFTER %.*s;\n",
                                t, (int)wl[i], wv[i], (int)wl[i - 1], wv[i - 1]);
            else if (nw > 1)
                strata__pgd_say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s BEFORE %.*s;\n",
                                t, (int)wl[i], wv[i], (int)wl[i + 1], wv[i + 1]);
            else
                strata__pgd_say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s;\n", t,
                                (int)wl[i], wv[i]);
        }
        goto done;
    }
    if (strchr(t, '"') || strchr(t, '.')) {
        strata__pgd_say(
            c, STRATA_PHASE_TYPE,
            "-- type %s: PostgreSQL cannot drop or reorder the values of an enum; make the type "
            "again and convert its columns\n",
            t);
        goto done;
    }
    strata__pgd_say(
        c, STRATA_PHASE_TYPE,
        "-- PostgreSQL cannot drop or reorder the values of an enum: type %s is made again and "
        "its columns converted (a row holding a value that goes makes the conversion fail: "
        "change it first)\nALTER TYPE %s RENAME TO %s_strata_old;\nCREATE TYPE %s AS ENUM (",
        t, t, t, t);
    for (i = 0; i < nw; i++)
        strata__pgd_say(c, STRATA_PHASE_TYPE, "%s%.*s", i ? ", " : "", (int)wl[i], wv[i]);
    strata__pgd_say(c, STRATA_PHASE_TYPE, ");\n");
    /* the tables' columns of this type, as the live database has them */
    for (i = 0; i < c->live->n; i++) {
        const char *p = c->live->v[i].canon;
        strata_pgcol x;
        if (strcmp(c->live->v[i].type, "table") != 0)
            continue;
        strata__pgd_col_init(&x);
        while (strata__pgd_next_line(&p, &l))
            if (strata__pgd_col_parse(l.data, &x) && x.type.data && !strcmp(x.type.data, t)) {
                const char *r = c->live->v[i].name, *n = x.name.data;
                if (x.def.len)
                    strata__pgd_say(c, STRATA_PHASE_TYPE,
                                    "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", r, n);
                strata__pgd_say(c, STRATA_PHASE_TYPE,
                                "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s;\n", r,
                                n, t, n, t);
                if (x.def.len)
                    strata__pgd_say(c, STRATA_PHASE_TYPE,
                                    "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", r, n,
                                    x.def.data);
            }
        strata__pgd_col_free(&x);
    }
    strata__pgd_say(c, STRATA_PHASE_TYPE, "DROP TYPE %s_strata_old;\n", t);
done:
    if (a.oom || b.oom || l.oom)
        c->sql.oom = 1;
    strata__free(NULL, (void *)lv);
    strata__free(NULL, (void *)wv);
    strata__free(NULL, ll);
    strata__free(NULL, wl);
    strata__buf_free(&a);
    strata__buf_free(&b);
    strata__buf_free(&l);
}

/* "type T domain BASE[ not null][ default X]" with its constraints, as
 * CREATE DOMAIN and ALTER DOMAIN ... ADD CONSTRAINT. */
static void create_domain(strata_drift_ctx *c, const strata_schema_obj *w, const char *rest)
{
    const char *nn = strstr(rest, " not null"), *df = strstr(rest, " default ");
    const char *end = nn ? nn : df ? df : rest + strlen(rest), *t;
    strata_buf l, key, name;

    strata__buf_init(&l, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_init(&name, NULL);
    if (nn && df && df < nn) { /* the default's text holds " not null": it is last */
        nn = NULL;
        end = df;
    }
    strata__pgd_say(c, STRATA_PHASE_TYPE, "CREATE DOMAIN %s AS %.*s%s", w->name, (int)(end - rest),
                    rest, nn ? " NOT NULL" : "");
    if (df)
        strata__pgd_say(c, STRATA_PHASE_TYPE, " DEFAULT %s", df + 9);
    strata__pgd_say(c, STRATA_PHASE_TYPE, ";\n");
    for (t = w->canon; strata__pgd_next_line(&t, &l);) {
        const char *def;
        if (strata__pgd_con_parse(l.data, &key, &name, &def))
            strata__pgd_con_add(c, STRATA_PHASE_TYPE, "DOMAIN", w->name, name.data, def);
    }
    if (l.oom || key.oom || name.oom)
        c->sql.oom = 1;
    strata__buf_free(&l);
    strata__buf_free(&key);
    strata__buf_free(&name);
}

/* "type T enum (...)" as CREATE TYPE, a domain as CREATE DOMAIN; a
 * composite type: a comment (its attributes' order is not in the snapshot). */
void strata__drift_pg_create_type(strata_drift_ctx *c, const strata_schema_obj *w)
{
    strata_buf l, key;
    strata__buf_init(&l, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "type %s", w->name);
    if (key.data && strata__pgd_canon_find(w->canon, key.data, &l) &&
        strata__pgd_starts(l.data + key.len, " enum ("))
        strata__pgd_say(c, STRATA_PHASE_TYPE, "CREATE TYPE %s AS ENUM %s;\n", w->name,
                        l.data + key.len + 6);
    else if (key.data && l.data && strata__pgd_starts(l.data, key.data) &&
             strata__pgd_starts(l.data + key.len, " domain "))
        create_domain(c, w, l.data + key.len + 8);
    else
        strata__pgd_say(
            c, STRATA_PHASE_TYPE,
            "-- type %s: a composite type; CREATE TYPE is not derivable from the snapshot (its "
            "attributes' order is not in it): create it from the migration that does\n",
            w->name);
    if (l.oom || key.oom)
        c->sql.oom = 1;
    strata__buf_free(&l);
    strata__buf_free(&key);
}
