/*
 * gen_migrations.c - writes N synthetic but realistic strata migration files
 * for the bundle benchmark: usage `gen_migrations DIR [N] [SEED]`.
 *
 * The generator keeps a model of the schema it has built so far, so later
 * migrations alter, index, seed and update tables that exist, with columns of
 * the right types. Names, types, constraints, literal data, comments and the
 * mix of statements vary from file to file; output depends only on N and the
 * seed (a fixed xorshift generator, no time, no locale). Files average about
 * 2 KB, like hand-written migrations of a long-lived application.
 *
 * --portable writes SQL that runs, as it is, on both SQLite and PostgreSQL
 * and in order from the first file (the performance benchmark applies it
 * with strata, the floors and the peers: perf_bench.sh): no AUTOINCREMENT,
 * no UNIQUE (random data would collide), NOT NULL only with a default,
 * names that never repeat and fit PostgreSQL's 63 bytes, VARCHARs long
 * enough for every literal, TEXT for JSON values (PostgreSQL's json has no
 * equality or index), distinct view columns, one assignment per column, and
 * no transaction= or environments= header. --size BYTES sets the mean size
 * of a file's header and up section (default 1400: files of about 2 KB).
 * Without either option the output is what it always was, byte for byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TABLES 4096
#define MAX_COLS   48
#define NAME_MAX_  64

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: good enough, portable, deterministic */
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return n ? (unsigned)(rnd() % n) : 0;
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

#define PICK(arr) (arr[below((unsigned)(sizeof(arr) / sizeof(arr[0])))])

static const char *const nouns[] = {
    "account",     "user",       "order",     "invoice",      "payment",      "product",
    "customer",    "shipment",   "warehouse", "supplier",     "category",     "review",
    "session",     "token",      "audit_log", "notification", "subscription", "plan",
    "coupon",      "cart",       "cart_item", "address",      "country",      "region",
    "employee",    "department", "project",   "task",         "comment",      "attachment",
    "tag",         "label",      "team",      "membership",   "role",         "permission",
    "webhook",     "event",      "metric",    "report",       "dashboard",    "widget",
    "prompt",      "completion", "model",     "dataset",      "experiment",   "run",
    "device",      "firmware",   "sensor",    "reading",      "alert",        "incident",
    "ticket",      "message",    "thread",    "channel",      "contact",      "lead",
    "opportunity", "quote",      "contract",  "vendor",       "asset",        "license",
    "booking",     "room",       "hotel",     "flight",       "passenger",    "route",
    "course",      "lesson",     "student",   "enrollment",   "grade",        "teacher",
    "recipe",      "ingredient", "menu",      "store",        "stock_level",  "price_rule",
};

static const char *const colbase[] = {
    "name",         "title",        "description",  "status",      "kind",          "email",
    "phone",        "amount",       "quantity",     "price",       "currency",      "total",
    "discount",     "tax_rate",     "weight",       "height",      "width",         "score",
    "rank",         "priority",     "position",     "url",         "slug",          "code",
    "reference",    "external_id",  "notes",        "body",        "summary",       "locale",
    "timezone",     "latitude",     "longitude",    "city",        "postal_code",   "street",
    "first_name",   "last_name",    "display_name", "username",    "password_hash", "salt",
    "ip_address",   "user_agent",   "started_at",   "finished_at", "expires_at",    "deleted_at",
    "published_at", "archived",     "enabled",      "visible",     "is_default",    "verified",
    "retries",      "attempts",     "duration_ms",  "size_bytes",  "checksum",      "version",
    "mime_type",    "filename",     "color",        "icon",        "sort_order",    "level",
    "balance",      "credit_limit", "due_date",     "paid_at",     "birth_date",    "gender",
    "language",     "payload",      "metadata",     "settings",    "config",        "source",
    "channel",      "campaign",     "medium",       "rating",      "comment_count", "view_count",
};

enum { T_INT, T_BIGINT, T_TEXT, T_VARCHAR, T_NUMERIC, T_BOOL, T_TS, T_DATE, T_REAL, T_JSON };

static const char *const cities[] = {
    "Lisbon", "Porto",    "Berlin",  "Hamburg", "Lyon",      "Marseille", "Turin",
    "Milan",  "Krakow",   "Gdansk",  "Leeds",   "Glasgow",   "Dublin",    "Cork",
    "Austin", "Portland", "Denver",  "Toronto", "Montreal",  "Osaka",     "Nagoya",
    "Pune",   "Chennai",  "Nairobi", "Lagos",   "Santiago",  "Bogota",    "Lima",
    "Oslo",   "Bergen",   "Tampere", "Tallinn", "Ljubljana", "Zagreb",    "Valencia",
};
static const char *const firsts[] = {
    "Ana",   "Joao",  "Marta", "Pedro", "Lena",   "Jonas", "Chloe",  "Hugo",  "Giulia",
    "Marco", "Ola",   "Piotr", "Emma",  "Liam",   "Aoife", "Sean",   "Maya",  "Noah",
    "Yuki",  "Kenji", "Priya", "Arjun", "Amara",  "Tunde", "Sofia",  "Mateo", "Ingrid",
    "Eero",  "Kadri", "Nina",  "Luka",  "Carmen", "Diego", "Fatima", "Omar",  "Wei",
};
static const char *const lasts[] = {
    "Silva",  "Santos",   "Muller", "Schmidt", "Dubois", "Moreau",    "Rossi",   "Bianchi",
    "Nowak",  "Kowalski", "Smith",  "Brown",   "Murphy", "Kelly",     "Johnson", "Lee",
    "Tanaka", "Sato",     "Sharma", "Patel",   "Okafor", "Adeyemi",   "Garcia",  "Lopez",
    "Hansen", "Virtanen", "Tamm",   "Novak",   "Horvat", "Fernandez", "Haddad",  "Chen",
};
static const char *const words[] = {
    "fast",      "legacy",    "primary",  "backup",    "nightly",  "weekly",   "manual",
    "automatic", "pending",   "active",   "suspended", "closed",   "draft",    "approved",
    "rejected",  "premium",   "basic",    "trial",     "internal", "external", "partner",
    "retail",    "wholesale", "express",  "standard",  "economy",  "fragile",  "bulk",
    "seasonal",  "limited",   "regional", "global",    "mobile",   "desktop",  "offline",
};
static const char *const reasons[] = {
    "needed by the reporting job",
    "queries on this column were doing full scans",
    "requested by the billing team",
    "see the incident review from last sprint",
    "backfilled separately; keep this migration fast",
    "keeps the old column until clients are upgraded",
    "matches the constraint enforced by the API layer",
    "the admin screen filters on this",
    "split out of a larger table that grew too wide",
    "seed data for the onboarding flow",
    "nullable first; a later migration adds NOT NULL",
    "used by the nightly export",
    "defaults chosen with product",
    "to support soft deletes",
    "denormalised for the dashboard",
    "the old values were inconsistent across regions",
};
static const char *const verbs[] = {"add",      "create",    "extend", "index", "seed",
                                    "backfill", "normalise", "track",  "store", "introduce",
                                    "rework",   "support",   "record", "split", "fix"};

typedef struct col {
    char name[NAME_MAX_];
    int type;
    int len;     /* VARCHAR length / NUMERIC precision */
    int notnull; /* --portable: an INSERT must not write NULL here */
} col;

typedef struct table {
    char name[NAME_MAX_];
    char fk[NAME_MAX_ + 3]; /* the foreign key column, not in cols (never inserted) */
    col cols[MAX_COLS];
    int ncols;
    int nindexes;
    long next_id;
} table;

static table tables[MAX_TABLES];
static int ntables;
static long index_serial;
static int portable; /* --portable: runs on SQLite and PostgreSQL (header comment) */
static long view_serial;

/* A growable output buffer for one file. */
static char *obuf;
static size_t olen, ocap;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void
out(const char *fmt, ...);

static void out(const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(obuf + olen, ocap - olen, fmt, ap);
        va_end(ap);
        if (n < 0) {
            fprintf(stderr, "gen_migrations: format error\n");
            exit(1);
        }
        if ((size_t)n < ocap - olen)
            break;
        ocap = ocap * 2 + (size_t)n + 1024;
        obuf = realloc(obuf, ocap);
        if (!obuf) {
            fprintf(stderr, "gen_migrations: out of memory\n");
            exit(1);
        }
    }
    olen += (size_t)n;
}

/* The statements of the down section, collected in reverse. */
static char *dbuf[256];
static int ndown;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void
down(const char *fmt, ...);

static void down(const char *fmt, ...)
{
    va_list ap;
    char tmp[1024];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (ndown < 256) {
        dbuf[ndown] = malloc(strlen(tmp) + 1);
        if (!dbuf[ndown])
            exit(1);
        memcpy(dbuf[ndown], tmp, strlen(tmp) + 1);
        ndown++;
    }
}

static const char *type_sql(const col *c, char *buf, size_t n)
{
    switch (c->type) {
    case T_INT:
        return "INTEGER";
    case T_BIGINT:
        return "BIGINT";
    case T_TEXT:
        return "TEXT";
    case T_VARCHAR:
        snprintf(buf, n, "VARCHAR(%d)", c->len);
        return buf;
    case T_NUMERIC:
        snprintf(buf, n, "NUMERIC(%d, %d)", c->len, c->len > 12 ? 4 : 2);
        return buf;
    case T_BOOL:
        return "BOOLEAN";
    case T_TS:
        return "TIMESTAMP";
    case T_DATE:
        return "DATE";
    case T_REAL:
        return "REAL";
    default:
        return portable ? "TEXT" : "JSON";
    }
}

static int guess_type(const char *name)
{
    static const int any[] = {T_INT, T_TEXT, T_VARCHAR, T_VARCHAR, T_NUMERIC, T_BOOL,
                              T_TS,  T_DATE, T_REAL,    T_BIGINT,  T_TEXT};
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, "_at") == 0)
        return T_TS;
    if (n > 5 && strcmp(name + n - 5, "_date") == 0)
        return T_DATE;
    if (strstr(name, "amount") || strstr(name, "price") || strstr(name, "total") ||
        strstr(name, "balance") || strstr(name, "limit") || strstr(name, "rate"))
        return T_NUMERIC;
    if (strstr(name, "count") || strstr(name, "quantity") || strstr(name, "retries") ||
        strstr(name, "attempts") || strstr(name, "position") || strstr(name, "rank") ||
        strstr(name, "order") || strstr(name, "level") || strstr(name, "priority"))
        return T_INT;
    if (strncmp(name, "is_", 3) == 0 || strcmp(name, "enabled") == 0 ||
        strcmp(name, "visible") == 0 || strcmp(name, "archived") == 0 ||
        strcmp(name, "verified") == 0)
        return T_BOOL;
    if (strstr(name, "metadata") || strstr(name, "settings") || strstr(name, "config") ||
        strstr(name, "payload"))
        return chance(60) ? T_JSON : T_TEXT;
    if (strstr(name, "_ms") || strstr(name, "bytes"))
        return T_BIGINT;
    if (strstr(name, "latitude") || strstr(name, "longitude") || strstr(name, "score") ||
        strstr(name, "weight") || strstr(name, "height") || strstr(name, "width"))
        return chance(50) ? T_REAL : T_NUMERIC;
    if (chance(70))
        return T_VARCHAR;
    return any[below(sizeof(any) / sizeof(any[0]))];
}

static int has_col(const table *t, const char *name)
{
    int i;
    for (i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return 1;
    /* the columns outside the model: the foreign key, the trailing version */
    return portable && (strcmp(t->fk, name) == 0 || strcmp(name, "version") == 0);
}

static void new_col_name(const table *t, char *buf, size_t n)
{
    int tries;
    for (tries = 0; tries < 20; tries++) {
        const char *b = PICK(colbase);
        switch (below(6)) {
        case 0:
            snprintf(buf, n, "%s_%s", PICK(words), b);
            break;
        case 1:
            snprintf(buf, n, "%s_%s", PICK(nouns), b);
            break;
        default:
            snprintf(buf, n, "%s", b);
        }
        if (!has_col(t, buf))
            return;
    }
    do
        snprintf(buf, n, "%s_%u", PICK(colbase), below(1000));
    while (portable && has_col(t, buf));
}

static void set_col(col *c, const char *name)
{
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->type = guess_type(name);
    if (c->type == T_VARCHAR) {
        static const int lens[] = {16, 32, 40, 64, 80, 100, 120, 128, 200, 255, 512};
        c->len = PICK(lens);
        if (portable && c->len < 64)
            c->len = 64; /* the longest literal is an URL of about 50 bytes */
    } else if (c->type == T_NUMERIC) {
        static const int prec[] = {8, 10, 12, 14, 18};
        c->len = PICK(prec);
    }
}

/* A literal of the column's type, varied. */
static void literal(const col *c, long row)
{
    switch (c->type) {
    case T_INT:
        out("%u", below(chance(50) ? 10 : 5000));
        break;
    case T_BIGINT:
        out("%llu", (unsigned long long)(rnd() % 100000000ULL));
        break;
    case T_NUMERIC:
    case T_REAL:
        out("%u.%02u", below(20000), below(100));
        break;
    case T_BOOL:
        out(chance(50) ? "TRUE" : "FALSE");
        break;
    case T_TS:
        out("'20%02u-%02u-%02u %02u:%02u:%02u'", 18 + below(7), 1 + below(12), 1 + below(28),
            below(24), below(60), below(60));
        break;
    case T_DATE:
        out("'%04u-%02u-%02u'", 1950 + below(70), 1 + below(12), 1 + below(28));
        break;
    case T_JSON:
        out("'{\"%s\": %u, \"%s\": \"%s\"}'", PICK(colbase), below(100), PICK(colbase),
            PICK(words));
        break;
    default:
        if (strstr(c->name, "email"))
            out("'%s.%s%ld@example.%s'", PICK(firsts), PICK(lasts), row,
                chance(50) ? "com" : "org");
        else if (strstr(c->name, "name"))
            out("'%s %s'", PICK(firsts), PICK(lasts));
        else if (strstr(c->name, "city"))
            out("'%s'", PICK(cities));
        else if (strstr(c->name, "url"))
            out("'https://%s.example.net/%s/%ld'", PICK(words), PICK(nouns), row);
        else if (strstr(c->name, "phone"))
            out("'+%u %03u %03u %04u'", 1 + below(99), below(1000), below(1000), below(10000));
        else if (strstr(c->name, "code") || strstr(c->name, "reference") ||
                 strstr(c->name, "checksum") || strstr(c->name, "external"))
            out("'%c%c-%06u'", 'A' + below(26), 'A' + below(26), below(1000000));
        else if (chance(30))
            out("'%s''s %s %s'", PICK(firsts), PICK(words), PICK(nouns));
        else
            out("'%s %s'", PICK(words), PICK(nouns));
    }
}

static table *pick_table(void)
{
    /* recent tables are touched more often, like in a real history */
    if (ntables == 0)
        return NULL;
    if (chance(60) && ntables > 10)
        return &tables[ntables - 1 - below(10)];
    return &tables[below((unsigned)ntables)];
}

static void comment_line(void)
{
    switch (below(4)) {
    case 0:
        out("-- %s\n", PICK(reasons));
        break;
    case 1:
        out("-- %s-%u: %s\n", chance(50) ? "JIRA" : "OPS", 100 + below(9000), PICK(reasons));
        break;
    case 2:
        out("-- %s %s %s; %s\n", PICK(verbs), PICK(words), PICK(nouns), PICK(reasons));
        break;
    default:
        out("-- TODO(%s): revisit once the %s %s migration has shipped\n", PICK(firsts),
            PICK(words), PICK(nouns));
    }
}

static void op_create_table(void)
{
    table *t;
    char nm[NAME_MAX_], tb[32];
    int i, n, ref = -1;

    if (ntables >= MAX_TABLES)
        return;
    t = &tables[ntables];
    memset(t, 0, sizeof(*t));
    for (i = 0; i < 50; i++) {
        int k, dup = 0;
        if (chance(50))
            snprintf(nm, sizeof(nm), "%s_%ss", PICK(nouns), PICK(nouns));
        else if (chance(50))
            snprintf(nm, sizeof(nm), "%s_%ss", PICK(words), PICK(nouns));
        else
            snprintf(nm, sizeof(nm), "%ss", PICK(nouns));
        for (k = 0; k < ntables && !dup; k++)
            dup = strcmp(tables[k].name, nm) == 0;
        if (!dup)
            break;
    }
    if (i == 50)
        snprintf(nm, sizeof(nm), "%ss_%d", PICK(nouns), ntables);
    snprintf(t->name, sizeof(t->name), "%s", nm);
    t->next_id = 1;
    if (chance(50))
        comment_line();
    out("CREATE TABLE %s (\n", t->name);
    out("    id %s PRIMARY KEY%s,\n", chance(50) ? "INTEGER" : "BIGINT",
        chance(30) && !portable ? " AUTOINCREMENT" : "");
    if (ntables > 0 && chance(60)) {
        ref = (int)below((unsigned)ntables);
        char fk[NAME_MAX_ + 3];
        snprintf(fk, sizeof(fk), "%.*s_id", (int)strlen(tables[ref].name) - 1, tables[ref].name);
        memcpy(t->fk, fk, sizeof(fk));
        /* portable: nullable, as no INSERT names it */
        out("    %s INTEGER%s REFERENCES %s(id)%s,\n", t->fk, portable ? "" : " NOT NULL",
            tables[ref].name, chance(50) ? " ON DELETE CASCADE" : "");
    }
    n = 3 + (int)below(9);
    for (i = 0; i < n && t->ncols < MAX_COLS - 2; i++) {
        char cn[NAME_MAX_];
        col *c = &t->cols[t->ncols];
        int notnull, dflt = 1;
        new_col_name(t, cn, sizeof(cn));
        set_col(c, cn);
        t->ncols++;
        out("    %s %s", c->name, type_sql(c, tb, sizeof(tb)));
        notnull = chance(40);
        if (notnull && !portable)
            out(" NOT NULL");
        if (c->type == T_BOOL && chance(70))
            out(" DEFAULT %s", chance(50) ? "FALSE" : "TRUE");
        else if ((c->type == T_INT || c->type == T_NUMERIC) && chance(40))
            out(" DEFAULT 0");
        else if (c->type == T_VARCHAR && chance(20))
            out(" DEFAULT '%s'", PICK(words));
        else if (c->type == T_VARCHAR && chance(10) && !portable)
            out(" UNIQUE");
        else
            dflt = 0;
        /* portable: NOT NULL only where an INSERT may leave the column out */
        if (notnull && portable && dflt) {
            out(" NOT NULL");
            c->notnull = 1;
        }
        if ((c->type == T_INT || c->type == T_NUMERIC) && chance(15))
            out(" CHECK (%s >= 0)", c->name);
        out(",%s\n", chance(8) ? " -- see below" : "");
    }
    if (chance(70)) {
        t->cols[t->ncols].notnull = portable;
        set_col(&t->cols[t->ncols++], "created_at");
        out("    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n");
    }
    if (chance(50)) {
        int notnull = chance(50);
        t->cols[t->ncols].notnull = notnull && portable;
        set_col(&t->cols[t->ncols++], "updated_at");
        out("    updated_at TIMESTAMP%s\n", notnull ? " NOT NULL DEFAULT CURRENT_TIMESTAMP" : "");
    } else {
        out("    version INTEGER NOT NULL DEFAULT 1\n");
    }
    out(");\n\n");
    down("DROP TABLE %s;", t->name);
    ntables++;
}

static void op_add_column(void)
{
    table *t = pick_table();
    char cn[NAME_MAX_], tb[32];
    col *c;
    int k, n = 1 + (chance(30) ? (int)below(3) : 0);

    if (!t)
        return;
    for (k = 0; k < n && t->ncols < MAX_COLS; k++) {
        c = &t->cols[t->ncols];
        new_col_name(t, cn, sizeof(cn));
        set_col(c, cn);
        t->ncols++;
        if (k == 0 && chance(40))
            comment_line();
        out("ALTER TABLE %s ADD COLUMN %s %s", t->name, c->name, type_sql(c, tb, sizeof(tb)));
        if (chance(30)) {
            out(" NOT NULL DEFAULT ");
            literal(c, t->next_id);
            c->notnull = portable;
        } else if (chance(20)) {
            out(" DEFAULT NULL");
        }
        out(";\n");
        down("ALTER TABLE %s DROP COLUMN %s;", t->name, c->name);
    }
    out("\n");
}

static void op_create_index(void)
{
    table *t = pick_table();
    const col *a, *b = NULL;
    int uniq;

    if (!t || t->ncols == 0)
        return;
    a = &t->cols[below((unsigned)t->ncols)];
    if (t->ncols > 1 && chance(40)) {
        b = &t->cols[below((unsigned)t->ncols)];
        if (b == a)
            b = NULL;
    }
    uniq = chance(20) && !portable;
    index_serial++;
    t->nindexes++;
    if (chance(30))
        comment_line();
    if (portable) {
        /* a serial makes the name unique; 63 bytes is PostgreSQL's limit */
        char nm[4 * NAME_MAX_];
        if (b)
            snprintf(nm, sizeof(nm), "ix%ld_%s_%s_%s", index_serial, t->name, a->name, b->name);
        else
            snprintf(nm, sizeof(nm), "ix%ld_%s_%s", index_serial, t->name, a->name);
        nm[63] = '\0';
        if (b)
            out("CREATE INDEX %s ON %s (%s, %s%s)", nm, t->name, a->name, b->name,
                chance(30) ? " DESC" : "");
        else
            out("CREATE INDEX %s ON %s (%s)", nm, t->name, a->name);
        if (chance(15) && has_col(t, "deleted_at"))
            out(" WHERE deleted_at IS NULL");
        else if (chance(10))
            out(" WHERE %s IS NOT NULL", a->name);
        out(";\n\n");
        down("DROP INDEX %s;", nm);
        return;
    }
    if (b)
        out("CREATE %sINDEX %s_%s_%s_%s ON %s (%s, %s%s)", uniq ? "UNIQUE " : "",
            uniq ? "uq" : "ix", t->name, a->name, b->name, t->name, a->name, b->name,
            chance(30) ? " DESC" : "");
    else
        out("CREATE %sINDEX %s_%s_%s ON %s (%s)", uniq ? "UNIQUE " : "", uniq ? "uq" : "idx",
            t->name, a->name, t->name, a->name);
    if (chance(15) && has_col(t, "deleted_at"))
        out(" WHERE deleted_at IS NULL");
    else if (chance(10))
        out(" WHERE %s IS NOT NULL", a->name);
    out(";\n\n");
    if (b)
        down("DROP INDEX %s_%s_%s_%s;", uniq ? "uq" : "ix", t->name, a->name, b->name);
    else
        down("DROP INDEX %s_%s_%s;", uniq ? "uq" : "idx", t->name, a->name);
}

static void op_insert(void)
{
    table *t = pick_table();
    int i, r, nrows, ncols, start[MAX_COLS];
    long first;

    if (!t || t->ncols == 0)
        return;
    ncols = t->ncols < 6 ? t->ncols : 2 + (int)below((unsigned)t->ncols - 1);
    if (ncols > 8)
        ncols = 8;
    /* distinct columns, in table order */
    for (i = 0; i < ncols; i++)
        start[i] = i * t->ncols / ncols;
    nrows = 2 + (int)below(chance(20) ? 14 : 6);
    first = t->next_id;
    if (chance(50))
        comment_line();
    out("INSERT INTO %s (id", t->name);
    for (i = 0; i < ncols; i++)
        out(", %s", t->cols[start[i]].name);
    out(") VALUES\n");
    for (r = 0; r < nrows; r++) {
        out("    (%ld", t->next_id);
        for (i = 0; i < ncols; i++) {
            out(", ");
            if (chance(5) && !t->cols[start[i]].notnull)
                out("NULL");
            else
                literal(&t->cols[start[i]], t->next_id);
        }
        out(")%s\n", r + 1 < nrows ? "," : ";");
        t->next_id++;
    }
    out("\n");
    down("DELETE FROM %s WHERE id BETWEEN %ld AND %ld;", t->name, first, t->next_id - 1);
}

static void op_update(void)
{
    table *t = pick_table();
    const col *c, *w;

    if (!t || t->ncols < 2)
        return;
    c = &t->cols[below((unsigned)t->ncols)];
    w = &t->cols[below((unsigned)t->ncols)];
    if (chance(40))
        comment_line();
    out("UPDATE %s SET %s = ", t->name, c->name);
    literal(c, t->next_id);
    if (c->type == T_INT && chance(30) && !portable)
        out(", %s = %s + 1", c->name, c->name);
    out("\n WHERE %s ", w->name);
    switch (below(4)) {
    case 0:
        out("IS NULL");
        break;
    case 1:
        out("= ");
        literal(w, t->next_id);
        break;
    case 2:
        out("<> ");
        literal(w, t->next_id);
        break;
    default:
        out("IS NOT NULL AND id < %u", 10 + below(5000));
    }
    out(";\n\n");
}

static void op_view(void)
{
    table *t = pick_table();
    const char *w = PICK(words);
    int i, n;

    if (!t || t->ncols < 2)
        return;
    n = 2 + (int)below(t->ncols < 5 ? (unsigned)t->ncols - 1 : 4);
    if (portable) {
        /* distinct columns (PostgreSQL refuses a name twice), a name never reused */
        char nm[4 * NAME_MAX_];
        snprintf(nm, sizeof(nm), "v%ld_%s_%s", ++view_serial, w, t->name);
        nm[63] = '\0';
        out("CREATE VIEW %s AS\nSELECT id", nm);
        for (i = 0; i < n && i < t->ncols; i++)
            out(",\n       %s", t->cols[(3 + i) % t->ncols].name);
        out("\n  FROM %s\n WHERE %s IS NOT NULL;\n\n", t->name, t->cols[0].name);
        down("DROP VIEW %s;", nm);
        return;
    }
    out("CREATE VIEW %s_%s AS\nSELECT id", w, t->name);
    for (i = 0; i < n; i++)
        out(",\n       %s", t->cols[(i * 7 + 3) % t->ncols].name);
    out("\n  FROM %s\n WHERE %s IS NOT NULL;\n\n", t->name, t->cols[0].name);
    down("DROP VIEW %s_%s;", w, t->name);
}

static void hex12(char *dst)
{
    static const char hx[] = "0123456789abcdef";
    uint64_t v = rnd();
    int i;
    for (i = 0; i < 12; i++)
        dst[i] = hx[(v >> (i * 4)) & 15];
    dst[12] = '\0';
}

int main(int argc, char **argv)
{
    char prev[13] = "", rev[13], slug[128], msg[160], path[4096];
    long n = 10000, seed = 1, size = 0, i;
    size_t total = 0;
    char *end;

    while (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-') {
        if (strcmp(argv[1], "--portable") == 0) {
            portable = 1;
        } else if (strcmp(argv[1], "--size") == 0 && argc > 2) {
            errno = 0;
            size = strtol(argv[2], &end, 10);
            if (errno || *end || size < 100 || size > 1000000) {
                fprintf(stderr, "gen_migrations: bad --size '%s' (100 to 1000000)\n", argv[2]);
                return 2;
            }
            argc--, argv++;
        } else {
            break;
        }
        argc--, argv++;
    }
    if (argc < 2 || argc > 4 || argv[1][0] == '-') {
        fprintf(stderr, "usage: gen_migrations [--portable] [--size BYTES] DIR [N] [SEED]\n");
        return 2;
    }
    if (argc > 2) {
        errno = 0;
        n = strtol(argv[2], &end, 10);
        if (errno || *end || n < 1 || n > 1000000) {
            fprintf(stderr, "gen_migrations: bad N '%s'\n", argv[2]);
            return 2;
        }
    }
    if (argc > 3) {
        errno = 0;
        seed = strtol(argv[3], &end, 10);
        if (errno || *end) {
            fprintf(stderr, "gen_migrations: bad seed '%s'\n", argv[3]);
            return 2;
        }
    }
    if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
        perror(argv[1]);
        return 1;
    }
    rng_state = (uint64_t)seed * UINT64_C(0x2545F4914F6CDD1D) + 12345;
    ocap = 1 << 16;
    obuf = malloc(ocap);
    if (!obuf)
        return 1;
    for (i = 0; i < n; i++) {
        FILE *f;
        /* header and up section; the down section adds more. --size: the same
         * spread around another mean */
        size_t target =
            size ? (size_t)(size * 5 / 14) + below((unsigned)(size * 18 / 14)) : 500 + below(1800);
        unsigned day = (unsigned)(i / 6);
        int k, first_op = 1;

        hex12(rev);
        olen = 0;
        ndown = 0;
        snprintf(msg, sizeof(msg), "%s %s %s", PICK(verbs), PICK(words), PICK(nouns));
        {
            size_t j;
            for (j = 0; msg[j] && j < sizeof(slug) - 1; j++)
                slug[j] = msg[j] == ' ' ? '_' : msg[j];
            slug[j] = '\0';
        }
        out("-- strata: revision=%s revises=%s\n", rev, prev[0] ? prev : "base");
        out("-- strata: message=\"%s\"\n", msg);
        if (chance(3) && !portable)
            out("-- strata: transaction=none\n");
        if (chance(4) && !portable)
            out("-- strata: environments=development,test\n");
        out("\n-- strata: up\n");
        while (olen < target || first_op) {
            unsigned r = below(100);
            if (first_op && ntables < 5)
                r = 0;
            first_op = 0;
            if (r < 22)
                op_create_table();
            else if (r < 42)
                op_add_column();
            else if (r < 60)
                op_create_index();
            else if (r < 82)
                op_insert();
            else if (r < 95)
                op_update();
            else
                op_view();
        }
        out("-- strata: down\n");
        if (ndown == 0)
            out("-- data fix only: nothing to undo\nSELECT 1;\n");
        for (k = ndown - 1; k >= 0; k--) {
            out("%s\n", dbuf[k]);
            free(dbuf[k]);
        }
        snprintf(path, sizeof(path), "%s/2%03u%02u%02u_%02u%02u_%s_%s.sql", argv[1],
                 (unsigned)(day / 336) % 1000, 1 + (day / 28) % 12, 1 + day % 28,
                 (unsigned)(8 + i % 6 * 2), (unsigned)(i * 7 % 60), rev, slug);
        f = fopen(path, "wb");
        if (!f || fwrite(obuf, 1, olen, f) != olen || fclose(f) != 0) {
            perror(path);
            return 1;
        }
        total += olen;
        memcpy(prev, rev, sizeof(prev));
    }
    fprintf(stderr, "gen_migrations: %ld files, %zu bytes (%.0f bytes/file)\n", n, total,
            (double)total / (double)n);
    free(obuf);
    return 0;
}
