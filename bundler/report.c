/*
 * report.c - lint's machine formats: one JSON document, or GitHub Actions
 * workflow commands (::error file=...::message), which put each finding on
 * its line of the pull request. Compiler-style text is diag.c's.
 *
 * Both are made from the diagnostics alone, in their order, so they say what
 * the text says; both escape what their readers would otherwise take as
 * syntax, and what would garble a terminal that shows a log.
 */
#include "bundler.h"
#include "lint.h"
#include "utf8.h"

#include <string.h>

static const char *const severity_names[] = {"note", "warning", "error"};

/* A JSON string: quotes, backslashes, controls and the characters that
 * garble a line escaped; bytes that are not UTF-8 become U+FFFD. */
static void json_str(strata_buf *out, const char *s)
{
    size_t i = 0, n = s ? strlen(s) : 0;

    if (!s) {
        strata__buf_puts(out, "null");
        return;
    }
    strata__buf_putc(out, '"');
    while (i < n) {
        unsigned long cp;
        size_t len = strata__utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            strata__buf_puts(out, "\\ufffd");
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            strata__buf_putc(out, '\\');
            strata__buf_putc(out, (char)cp);
        } else if (cp == '\n') {
            strata__buf_puts(out, "\\n");
        } else if (cp == '\t') {
            strata__buf_puts(out, "\\t");
        } else if (cp < 0x20 || strata__utf8_garbles_line(cp)) {
            strata__buf_printf(out, "\\u%04lx", cp);
        } else {
            strata__buf_put(out, s + i, len);
        }
        i += len;
    }
    strata__buf_putc(out, '"');
}

/* The migration a diagnostic's file is, or NULL. */
static const strata_migfile *mig_of(const strata_project *p, const char *file, size_t *at)
{
    size_t i;
    for (i = 0; file && i < p->nfiles; i++) {
        const strata_migfile *m = p->graph_ok ? strata__project_at(p, i) : &p->files[i];
        if (strcmp(m->file, file) == 0) {
            *at = i;
            return m;
        }
    }
    return NULL;
}

void report_json(const strata_project *p, const struct strata_lint *lint, strata_buf *out)
{
    size_t i, count[3] = {0, 0, 0}, k = 0;

    strata__buf_puts(out, "{\n  \"version\": 1,\n  \"directory\": ");
    json_str(out, p->dir);
    strata__buf_puts(out, ",\n  \"findings\": [");
    for (i = 0; i < p->diags.n; i++) {
        const strata_diag *d = &p->diags.v[i];
        size_t at;
        const strata_migfile *m = mig_of(p, d->file, &at);
        count[d->severity]++;
        strata__buf_puts(out, i ? ",\n    {" : "\n    {");
        strata__buf_puts(out, "\"file\": ");
        json_str(out, d->file);
        if (d->line)
            strata__buf_printf(out, ", \"line\": %u", d->line);
        else
            strata__buf_puts(out, ", \"line\": null");
        if (d->col)
            strata__buf_printf(out, ", \"column\": %u", d->col);
        else
            strata__buf_puts(out, ", \"column\": null");
        strata__buf_printf(out, ", \"severity\": \"%s\", \"rule\": ", severity_names[d->severity]);
        json_str(out, d->rule);
        strata__buf_puts(out, ", \"revision\": ");
        json_str(out, m ? m->revision : NULL);
        strata__buf_puts(out, ", \"message\": ");
        json_str(out, d->msg);
        strata__buf_putc(out, '}');
    }
    strata__buf_puts(out, p->diags.n ? "\n  ],\n" : "],\n");
    strata__buf_printf(out, "  \"errors\": %zu,\n  \"warnings\": %zu,\n  \"notes\": %zu,\n",
                       count[2], count[1], count[0]);
    /* What a production start will not apply on its own (lint.h). */
    strata__buf_puts(out, "  \"destructive\": [");
    for (i = 0; lint && p->graph_ok && i < p->nfiles; i++) {
        const char *what = strata__lint_destructive(lint, i);
        if (!what)
            continue;
        strata__buf_puts(out, k++ ? ",\n    {\"revision\": " : "\n    {\"revision\": ");
        json_str(out, strata__project_at(p, i)->revision);
        strata__buf_puts(out, ", \"findings\": ");
        json_str(out, what);
        strata__buf_putc(out, '}');
    }
    strata__buf_puts(out, k ? "\n  ]\n}\n" : "]\n}\n");
    if (p->diags.oom)
        out->oom = 1;
}

/* GitHub's escaping of a workflow command's message (data) or of a property
 * value (which also may not hold ':' or ','), after diag.c's escaping of
 * what would garble the log line. */
static void gh_escape(strata_buf *out, const char *s, int property)
{
    strata_buf shown;
    size_t i;

    strata__buf_init(&shown, NULL);
    strata__diag_put_escaped(&shown, s, 1);
    for (i = 0; i < shown.len; i++) {
        char c = shown.data[i];
        if (c == '%')
            strata__buf_puts(out, "%25");
        else if (c == '\r')
            strata__buf_puts(out, "%0D");
        else if (c == '\n')
            strata__buf_puts(out, "%0A");
        else if (property && c == ':')
            strata__buf_puts(out, "%3A");
        else if (property && c == ',')
            strata__buf_puts(out, "%2C");
        else
            strata__buf_putc(out, c);
    }
    if (shown.oom)
        out->oom = 1;
    strata__buf_free(&shown);
}

void report_github(const strata_project *p, strata_buf *out)
{
    static const char *const commands[] = {"notice", "warning", "error"};
    size_t i;

    for (i = 0; i < p->diags.n; i++) {
        const strata_diag *d = &p->diags.v[i];
        const char *sep = " ";
        strata__buf_printf(out, "::%s", commands[d->severity]);
        if (d->file) {
            strata__buf_puts(out, " file=");
            gh_escape(out, d->file, 1);
            sep = ",";
        }
        if (d->file && d->line)
            strata__buf_printf(out, ",line=%u", d->line);
        if (d->file && d->line && d->col)
            strata__buf_printf(out, ",col=%u", d->col);
        if (d->rule) {
            strata__buf_printf(out, "%stitle=", sep);
            gh_escape(out, d->rule, 1);
        }
        strata__buf_puts(out, "::");
        gh_escape(out, d->msg, 0);
        strata__buf_putc(out, '\n');
    }
    if (p->diags.oom)
        out->oom = 1;
}
