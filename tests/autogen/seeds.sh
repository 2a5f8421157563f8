#!/usr/bin/env bash
# seeds.sh SILICA CRON_DIR STRATA_BUNDLE EXPECTED: the seeds' workflow
# (docs/cli/create.md) through the application: silica is built from
# CRON_DIR (a build-tree copy of the cron module's first two migrations with
# its schema.sql and schema.postgresql.sql, SCHEMA declared); prompts.priority
# is added to both schema files, as the seeds add it to the model, and
# `silica cron migrate create` writes the migration, checked on SQLite in
# memory and on a scratch PostgreSQL cluster of its own (initdb). The
# transcript must equal EXPECTED (STRATA_UPDATE_EXPECTED=1 rewrites it).
set -u
silica=$1 dir=$2 sb=$3 expected=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-seeds.XXXXXX") || exit 1
cp "$dir/schema.sql" "$work/schema.sql.orig"
cp "$dir/schema.postgresql.sql" "$work/schema.postgresql.sql.orig"
restore() {
    cp "$work/schema.sql.orig" "$dir/schema.sql"
    cp "$work/schema.postgresql.sql.orig" "$dir/schema.postgresql.sql"
    rm -f "$dir"/2*_add_priority_field_to_prompts.sql
    rm -rf "$work"
}
trap restore EXIT
export LC_ALL=C NO_COLOR=1 SOURCE_DATE_EPOCH=1755419095
unset DATABASE_URL CRON_DATABASE_URL STRATA_ENV SILICA_ENVIRONMENT
cd "$work" || exit 1
out=$work/transcript

run() { # run ARGS...: a command, its output (paths and revisions masked), its exit code
    local o rc
    o=$("$@" 2>&1)
    rc=$?
    printf '$ %s\n' "$*" | sed -E -e "s|$silica|silica|; s|$sb|strata-bundle|; s|$dir|<cron>|g" \
        -e "s|$work|<work>|g" -e "s|${STRATA_PG_DB_URL:-none}|<url>|g" \
        -e 's/_[0-9a-f]{12}_add/_<rev>_add/' >>"$out"
    [ -n "$o" ] && printf '%s\n' "$o" | sed -E -e "s|$dir|<cron>|g" -e "s|$work|<work>|g" \
        -e 's/_[0-9a-f]{12}_add/_<rev>_add/; s/revision=[0-9a-f]{12}/revision=<rev>/' \
        -e 's/\([0-9]+ ms\)$/(<ms>)/' >>"$out"
    printf '[exit %d]\n' "$rc" >>"$out"
}

run "$silica" cron migrate status
run "$silica" cron migrate upgrade
# the seeds' step 1: the model gains priority = Column(Integer, nullable=False, default=1)
for f in schema.sql schema.postgresql.sql; do
    # the first table's (prompts') last column gets a comma and one more
    sed -i '0,/^    updated_at \(.*\) DEFAULT \(CURRENT_TIMESTAMP\|now()\)$/s//&,\n    priority INTEGER NOT NULL DEFAULT 1/' "$dir/$f"
done
run diff -u "$work/schema.sql.orig" "$dir/schema.sql"
run "$silica" cron migrate create "add priority field to prompts"
run cat "$dir"/2*_add_priority_field_to_prompts.sql
run "$sb" verify --schema "$dir/schema.sql" --schema-postgresql "$dir/schema.postgresql.sql" \
    --postgres "${STRATA_PG_DB_URL:?run through tests/pg/pg_env.sh}" "$dir"
run "$silica" cron migrate create "add priority field to prompts"
sed -i -E 's/^((---|\+\+\+) [^ \t]+).*$/\1/' "$out" # diff's file times

if [ "${STRATA_UPDATE_EXPECTED:-}" = 1 ]; then
    cp "$out" "$expected"
    echo "updated $expected"
    exit 0
fi
diff -u "$expected" "$out" || { echo "seeds: transcript differs from $expected"; exit 1; }
echo "ok: seeds"
