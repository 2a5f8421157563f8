/*
 * floor_input.c - the floors' migrations file and version rows (floor_input.h).
 */
#include "floor_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int floor_input_read(floor_input *in, const char *path)
{
    FILE *f = fopen(path, "rb");
    long size;
    size_t cap = 0, i;
    char *p, *end;

    memset(in, 0, sizeof(*in));
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    in->text = malloc((size_t)size + 1);
    if (!in->text || fread(in->text, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        fclose(f);
        return -1;
    }
    fclose(f);
    in->text[size] = '\0';
    end = in->text + size;
    /* Each "--@ " line starts a migration and ends the previous one's SQL. */
    for (p = in->text; p < end;) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if (strncmp(p, "--@ ", 4) == 0) {
            floor_migration *m;
            char *sp;
            if (in->n == cap) {
                cap = cap ? cap * 2 : 64;
                m = realloc(in->m, cap * sizeof(*m));
                if (!m) {
                    fprintf(stderr, "%s: out of memory\n", path);
                    return -1;
                }
                in->m = m;
            }
            if (in->n)
                p[-1] = '\0'; /* the previous SQL ends at this line */
            m = &in->m[in->n++];
            *eol = '\0';
            m->revision = p + 4;
            sp = strchr(p + 4, ' ');
            if (sp)
                *sp = '\0';
            m->message = sp ? sp + 1 : "";
            m->sql = eol < end ? eol + 1 : end;
        }
        p = eol + 1;
    }
    if (in->n == 0) {
        fprintf(stderr, "%s: no migration (no '--@ REVISION MESSAGE' line)\n", path);
        return -1;
    }
    for (i = 0; i < in->n; i++)
        in->m[i].sql_len = strlen(in->m[i].sql);
    return 0;
}

void floor_input_free(floor_input *in)
{
    free(in->text);
    free(in->m);
}

void floor_version_ddl(char *buf, size_t size, const char *table)
{
    snprintf(buf, size,
             "CREATE TABLE IF NOT EXISTS %s (\n"
             "    revision TEXT PRIMARY KEY,\n"
             "    exact TEXT NOT NULL,\n"
             "    loose TEXT NOT NULL,\n"
             "    message TEXT NOT NULL,\n"
             "    applied_at TEXT NOT NULL,\n"
             "    duration_ms BIGINT NOT NULL,\n"
             "    applied_by TEXT NOT NULL,\n"
             "    bundle_hash TEXT NOT NULL,\n"
             "    state TEXT NOT NULL CHECK (state IN ('applied', 'dirty')),\n"
             "    failed_statement INTEGER\n"
             ")",
             table);
}

void floor_row_values(const floor_migration *m, const char *v[FLOOR_NVALUES])
{
    static char when[32], by[96];
    time_t t = time(NULL);
    struct tm tm;

    if (!by[0]) {
        char host[64];
        if (gethostname(host, sizeof(host)) != 0)
            memcpy(host, "unknown", 8);
        host[sizeof(host) - 1] = '\0';
        snprintf(by, sizeof(by), "%s:%ld", host, (long)getpid());
    }
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    v[0] = m->revision;
    v[1] = "x3:0123456789abcdef0123456789abcdef";
    v[2] = "l3:0123456789abcdef0123456789abcdef";
    v[3] = m->message;
    v[4] = when;
    v[5] = "0";
    v[6] = by;
    v[7] = "x3:fedcba9876543210fedcba9876543210";
    v[8] = "applied";
}
