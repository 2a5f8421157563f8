/* A PostgreSQL snapshot as objects (schema/objects_pg.c): each line goes to
 * its object (a column and a constraint to their table or type, the index
 * of a primary key or unique constraint to the constraint's table, others
 * alone), quoted and qualified names are read whole, extension lines and
 * strata's schemas are left out, and lines that are not what they claim to
 * be (a bundle's text is checked by hash only) are kept or dropped without
 * reading out of bounds (ASan runs this too). */
#include "check.h"
#include "objects.h"
#include "snapshot_pg.h"

#include <stdlib.h>

static const strata_schema_obj *find(const strata_schema_objs *o, const char *type,
                                     const char *name)
{
    size_t i;
    for (i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].type, type) && !strcmp(o->v[i].name, name))
            return &o->v[i];
    return NULL;
}

int main(void)
{
    static const char *const lines[] = {
        "column \"Other\".\"My Table\".\"Weird Col\" integer not null default 1",
        "column \"Other\".\"My Table\".b text collate \"C\"",
        "column prompts.id integer not null serial",
        "column v.id integer",
        "constraint \"Other\".\"My Table\" \"my pk\": PRIMARY KEY (\"Weird Col\")",
        "constraint posint posint_check: CHECK (VALUE > 0)",
        "constraint prompts prompts_pkey: PRIMARY KEY (id)",
        "extension pg_trgm",
        "function set_updated_at(): CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS "
        "trigger LANGUAGE plpgsql AS $function$ BEGIN RETURN NEW; END; $function$ ",
        "index CREATE INDEX \"Ix 1\" ON \"Other\".\"My Table\" USING btree (b)",
        "index CREATE UNIQUE INDEX \"my pk\" ON \"Other\".\"My Table\" USING btree (\"Weird Col\")",
        "index CREATE UNIQUE INDEX prompts_pkey ON public.prompts USING btree (id)",
        "schema \"Other\"",
        "schema meta",
        "table \"Other\".\"My Table\"",
        "table prompts row level security",
        "trigger CREATE TRIGGER trg BEFORE UPDATE ON prompts FOR EACH ROW EXECUTE FUNCTION "
        "set_updated_at()",
        "type posint domain integer",
        "view v:  SELECT 1 AS id;",
    };
    /* not what they claim: no crash, nothing invented */
    static const char *const junk[] = {
        "column",
        "column ",
        "column x",
        "column a.",
        "constraint",
        "constraint x",
        "constraint x y",
        "index CREATE INDEX",
        "index CREATE INDEX x ON",
        "trigger CREATE TRIGGER",
        "function f(",
        "table \"unterminated",
        "type",
        "view",
        "schema ",
        "materialized view m",
        "sequence",
        "column \"a\"\"b\".\"c",
        "index  INDEX  ON  ",
    };
    strata_snapshot s, skip;
    strata_schema_objs o;
    const strata_schema_obj *x;
    size_t i;

    strata__snap_init(&s);
    strata__snap_init(&skip);
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        strata__snap_add_line(&s, lines[i]);
    strata__snap_finish(&s);
    strata__snap_add_line(&skip, "meta");
    strata__snap_finish(&skip);
    strata__objs_init(&o, NULL);
    CHECK(strata__objs_pg(&s, &skip, &o) == STRATA_OK);

    x = find(&o, "table", "\"Other\".\"My Table\"");
    CHECK(x != NULL);
    if (x)
        CHECK_STR(x->canon, /* its own line first, then what belongs to it, in order */
                  "table \"Other\".\"My Table\"\n"
                  "column \"Other\".\"My Table\".\"Weird Col\" integer not null default 1\n"
                  "column \"Other\".\"My Table\".b text collate \"C\"\n"
                  "constraint \"Other\".\"My Table\" \"my pk\": PRIMARY KEY (\"Weird Col\")\n"
                  "index CREATE UNIQUE INDEX \"my pk\" ON \"Other\".\"My Table\" USING btree "
                  "(\"Weird Col\")\n");
    x = find(&o, "index", "\"Ix 1\"");
    CHECK(x && !strcmp(x->table, "\"Other\".\"My Table\""));
    CHECK(find(&o, "index", "\"my pk\"") == NULL); /* with its constraint */
    CHECK(find(&o, "index", "prompts_pkey") == NULL);
    x = find(&o, "table", "prompts");
    CHECK(x && strstr(x->canon, "prompts_pkey ON") && strstr(x->canon, "row level security"));
    x = find(&o, "trigger", "trg");
    CHECK(x && !strcmp(x->table, "prompts"));
    x = find(&o, "function", "set_updated_at()");
    CHECK(x && x->sql && !strncmp(x->sql, "CREATE OR REPLACE FUNCTION", 26));
    x = find(&o, "type", "posint");
    CHECK(x && strstr(x->canon, "posint_check"));
    x = find(&o, "view", "v");
    CHECK(x && strstr(x->canon, "column v.id integer"));
    CHECK(find(&o, "schema", "\"Other\"") != NULL);
    CHECK(find(&o, "schema", "meta") == NULL); /* strata's */
    for (i = 0; i < o.n; i++)
        CHECK(strstr(o.v[i].canon, "extension") == NULL);
    /* sorted by type, then name bytewise */
    for (i = 1; i < o.n; i++) {
        int k = strcmp(o.v[i - 1].type, o.v[i].type);
        CHECK(k < 0 || (k == 0 && strcmp(o.v[i - 1].name, o.v[i].name) < 0));
    }
    strata__objs_free(&o);

    /* junk, alone and with the good lines */
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        strata__snap_add_line(&s, junk[i]);
    strata__snap_finish(&s);
    strata__objs_init(&o, NULL);
    CHECK(strata__objs_pg(&s, NULL, &o) == STRATA_OK);
    CHECK(find(&o, "table", "\"Other\".\"My Table\"") != NULL);
    CHECK(find(&o, "schema", "meta") != NULL); /* no skip list */
    strata__objs_free(&o);

    /* the readers of names */
    {
        const char *dot, *e;
        e = strata__pg_qname_end("\"a\"\"b\".c d", &dot);
        CHECK(*e == ' ' && dot && dot[1] == 'c');
        e = strata__pg_qname_end("\"unterminated", &dot);
        CHECK(*e == '\0' && !dot);
        e = strata__pg_ident_end("");
        CHECK(*e == '\0');
    }
    strata__snap_free(&s);
    strata__snap_free(&skip);
    return CHECK_DONE();
}
