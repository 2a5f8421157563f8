# perf_convert.awk - one strata migrations directory in every contender's
# format, for the performance benchmark (perf_bench.sh). The same statements
# everywhere; only the wrapping differs.
#
#   awk -v out=DIR -f perf_convert.awk FILE.sql...     (in apply order)
#
# reads migrations with one plain up and one plain down section (what
# `gen_migrations --portable` writes) and writes, in DIR:
#   floor.txt         the floors' input: "--@ REVISION MESSAGE", then the up SQL
#   sqlite_single.sql sqlite3 CLI: the version table, then all migrations and
#                     their version rows in one transaction
#   psql_per.sql      psql -f: one transaction per migration with its row
#   psql_single.sql   psql -1 -f: the same without BEGIN and COMMIT
#   sql-migrate/NNNNN_REVISION.sql   "-- +migrate Up" / "-- +migrate Down"
#   alembic/versions/REVISION.py     op.execute() of each statement, in a chain
# The version table of the CLI scripts is floor_version, with strata's columns
# (floor_input.c has the same DDL and stand-in values).

function flush_file(    i, path, py, stmt) {
    if (rev == "")
        return
    n++
    printf "--@ %s %s\n%s", rev, msg, up > (out "/floor.txt")
    row = sprintf("INSERT INTO floor_version (" cols ") VALUES ('%s', '%s', '%s', '%s', " \
                  "'2026-01-01T00:00:00Z', 0, 'host:1', '%s', 'applied');\n",
                  rev, "x3:0123456789abcdef0123456789abcdef",
                  "l3:0123456789abcdef0123456789abcdef", msg,
                  "x3:fedcba9876543210fedcba9876543210")
    printf "%s%s", up, row > (out "/sqlite_single.sql")
    printf "BEGIN;\n%s%sCOMMIT;\n", up, row > (out "/psql_per.sql")
    printf "%s%s", up, row > (out "/psql_single.sql")

    path = sprintf("%s/sql-migrate/%05d_%s.sql", out, n, rev)
    printf "-- +migrate Up\n%s-- +migrate Down\n%s", up, down > path
    close(path)

    # Alembic: one op.execute per statement (pysqlite runs one at a time); a
    # statement ends with the line that ends in ';'.
    py = out "/alembic/versions/" rev ".py"
    printf "\"\"\"%s\"\"\"\nfrom alembic import op\n\nrevision = \"%s\"\n", msg, rev > py
    printf "down_revision = %s\nbranch_labels = None\ndepends_on = None\n\n\n", \
        (parent == "" ? "None" : "\"" parent "\"") > py
    printf "def upgrade():\n" > py
    stmt = ""
    sql = 0
    for (i = 1; i <= nup; i++) {
        stmt = stmt (stmt == "" ? "" : "\\n") pyescape(uplines[i])
        if (uplines[i] !~ /^[ \t]*(--.*)?$/)
            sql = 1
        if (uplines[i] ~ /;[ \t]*$/) {
            printf "    op.execute(\"%s\")\n", stmt > py
            stmt = ""
            sql = 0
        }
    }
    if (sql) # a last statement without its ';'
        printf "    op.execute(\"%s\")\n", stmt > py
    printf "\n\ndef downgrade():\n    pass\n" > py
    close(py)
    parent = rev
}

function pyescape(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/"/, "\\\"", s)
    return s
}

BEGIN {
    if (out == "") {
        print "usage: awk -v out=DIR -f perf_convert.awk FILE.sql..." > "/dev/stderr"
        exit 2
    }
    cols = "revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state"
    ddl = "CREATE TABLE IF NOT EXISTS floor_version (\n" \
          "    revision TEXT PRIMARY KEY,\n    exact TEXT NOT NULL,\n    loose TEXT NOT NULL,\n" \
          "    message TEXT NOT NULL,\n    applied_at TEXT NOT NULL,\n" \
          "    duration_ms BIGINT NOT NULL,\n    applied_by TEXT NOT NULL,\n" \
          "    bundle_hash TEXT NOT NULL,\n" \
          "    state TEXT NOT NULL CHECK (state IN ('applied', 'dirty')),\n" \
          "    failed_statement INTEGER\n);\n"
    printf "PRAGMA foreign_keys = ON;\n%sBEGIN IMMEDIATE;\n", ddl > (out "/sqlite_single.sql")
    printf "\\set ON_ERROR_STOP 1\n%s", ddl > (out "/psql_per.sql")
    printf "\\set ON_ERROR_STOP 1\n%s", ddl > (out "/psql_single.sql")
    printf "" > (out "/floor.txt")
}

FNR == 1 {
    flush_file()
    rev = msg = up = down = ""
    nup = 0
    section = ""
}

/^-- strata:/ {
    if (match($0, /revision=[A-Za-z0-9_]+/))
        rev = substr($0, RSTART + 9, RLENGTH - 9)
    if (match($0, /message="[^"]*"/))
        msg = substr($0, RSTART + 9, RLENGTH - 10)
    if ($0 ~ /^-- strata: up( |$)/)
        section = "up"
    else if ($0 ~ /^-- strata: down( |$)/)
        section = "down"
    else if ($0 ~ /^-- strata: (up|down) /) {
        print FILENAME ": a dialect section: not a --portable migration" > "/dev/stderr"
        exit 1
    }
    next
}

section == "up" {
    up = up $0 "\n"
    uplines[++nup] = $0
    next
}

section == "down" {
    down = down $0 "\n"
}

END {
    flush_file()
    printf "COMMIT;\n" > (out "/sqlite_single.sql")
    printf "%d migrations\n", n
}
