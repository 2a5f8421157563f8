#!/usr/bin/env bash
# create: file name, header, revises = the head, several heads, --head,
# --splice, templates, --rev-id, SOURCE_DATE_EPOCH, slugs.
. "$(dirname "$0")/lib.sh"

mkdir m
run create m "create users" --rev-id 5d8b746712b6
expect_code 0 "create in an empty directory"
expect_eq "create prints the new file" "Created m/20240101_1200_5d8b746712b6_create_users.sql" "$OUT"
expect_eq "create is quiet on stderr" "" "$ERR"
expect_file "first migration: no revises, plain body" m/20240101_1200_5d8b746712b6_create_users.sql \
'-- strata: revision=5d8b746712b6
-- strata: message="create users"

-- strata: up


-- strata: down

'
run check m
expect_code 1 "an empty up section fails check until SQL is written"
expect_match "the check names the empty section" \
    '^m/20240101_1200_5d8b746712b6_create_users.sql:4: error: empty .up. section' "$ERR"
sed -i 's/^-- strata: up$/-- strata: up\nCREATE TABLE users (id INTEGER PRIMARY KEY);/' \
    m/20240101_1200_5d8b746712b6_create_users.sql
run check m
expect_code 0 "check after writing the SQL"

SOURCE_DATE_EPOCH=1717245000 run create m 'Add "priority" field to prompts!' --rev-id fc0bfa77ff5a
expect_code 0 "second create"
f=m/20240601_1230_fc0bfa77ff5a_add_priority_field_to_prompts.sql
expect_eq "SOURCE_DATE_EPOCH sets the time in the name" "Created $f" "$OUT"
expect_file "second migration revises the head; quotes escaped" "$f" \
'-- strata: revision=fc0bfa77ff5a revises=5d8b746712b6
-- strata: message="Add \"priority\" field to prompts!"

-- strata: up


-- strata: down

'
sed -i 's/^-- strata: up$/-- strata: up\nALTER TABLE prompts ADD COLUMN priority INTEGER;/' "$f"
run history m
expect_eq "the message survives the quoting" \
'5d8b746712b6 -> fc0bfa77ff5a (head), Add "priority" field to prompts!
<base> -> 5d8b746712b6, create users' "$OUT"

# A branch with --head on a revision that is not a head: only with --splice
# (Alembic's word); then create refuses while there are two heads.
run create m "branch" --head 5d8b746712b6 --rev-id 34065a4cc718
expect_code 2 "create --head on a non-head without --splice"
expect_eq "--head on a non-head names its child and the heads" \
"strata-bundle: --head 5d8b746712b6 is not a head (fc0bfa77ff5a revises it): a migration revising it starts a new branch. Pass --splice to do that on purpose, or revise a head (fc0bfa77ff5a)" "$ERR"
expect_eq "a refused splice writes nothing" "" "$(ls m | grep 34065a4cc718)"
run create m "branch" --head 5d8b746712b6 --splice --rev-id 34065a4cc718
expect_code 0 "create --head REV --splice"
expect_match "--head REV is the parent" '^-- strata: revision=34065a4cc718 revises=5d8b746712b6$' \
    "$(head -1 m/20240101_1200_34065a4cc718_branch.sql)"
sed -i 's/^-- strata: up$/-- strata: up\nSELECT 2;/' m/20240101_1200_34065a4cc718_branch.sql
n_before=$(ls m | wc -l)
run create m "refused" --rev-id 0000000000aa
expect_code 1 "create with two heads"
expect_eq "create with two heads explains and suggests merge" \
'strata-bundle: m has 2 heads; a new migration must revise one of them:
  34065a4cc718  branch
  fc0bfa77ff5a  Add "priority" field to prompts!
Join them first with: strata-bundle merge m 34065a4cc718 fc0bfa77ff5a -m "merge heads"
or choose one with --head REV.' "$ERR"
expect_eq "a refused create writes nothing" "$n_before" "$(ls m | wc -l)"
run create m "on top of one head" --head fc0bfa77ff5a --rev-id 0000000000bb
expect_code 0 "create --head with two heads"
expect_match "revises the chosen head" 'revises=fc0bfa77ff5a$' \
    "$(head -1 m/20240101_1200_0000000000bb_on_top_of_one_head.sql)"
run create m "new root" --head base --rev-id 0000000000cc
expect_code 0 "create --head base"
expect_eq "--head base: no revises" "-- strata: revision=0000000000cc" \
    "$(head -1 m/20240101_1200_0000000000cc_new_root.sql)"
run check m
expect_code 1 "check rejects the unfinished migrations"
run history m
expect_code 0 "history works while a migration is unfinished"
expect_eq "history warns about the unfinished migrations" \
"m/20240101_1200_0000000000bb_on_top_of_one_head.sql:4: warning: empty 'up' section: write the SQL to run before the build (check and generate reject it)
m/20240101_1200_0000000000cc_new_root.sql:4: warning: empty 'up' section: write the SQL to run before the build (check and generate reject it)" "$ERR"
sed -i 's/^-- strata: up$/-- strata: up\nSELECT 3;/' m/20240101_1200_0000000000bb_on_top_of_one_head.sql \
    m/20240101_1200_0000000000cc_new_root.sql
run check m
expect_code 0 "check once the SQL is written"
run create m "bad head" --head nosuchrev
expect_code 2 "create --head unknown"
expect_eq "unknown --head" "strata-bundle: --head nosuchrev: no such revision in m" "$ERR"

# --rev-id validation.
run create m "dup" --rev-id 5d8b746712b6 --head base
expect_code 2 "create --rev-id of an existing revision"
expect_eq "existing --rev-id" "strata-bundle: revision 5d8b746712b6 already exists in m" "$ERR"
run create m "bad id" --rev-id "no-dashes" --head base
expect_code 2 "create --rev-id invalid"
expect_eq "invalid --rev-id" "strata-bundle: invalid --rev-id 'no-dashes': use 1-64 of [A-Za-z0-9_]" "$ERR"
run create m "reserved" --rev-id head --head base
expect_code 2 "create --rev-id reserved"

# Usage errors.
run create m
expect_code 2 "create without a message"
run create nosuchdir "x"
expect_code 1 "create in a missing directory"
expect_eq "missing directory" "nosuchdir: error: cannot open the migrations directory: No such file or directory" "$ERR"

# A random revision: 12 lowercase hex digits, in the name and the header.
mkdir r
unset SOURCE_DATE_EPOCH
d1=$(date -u +%Y%m%d)
run create r "random id"
d2=$(date -u +%Y%m%d)
expect_code 0 "create with a random id"
name=${OUT#Created r/}
expect_match "file name YYYYMMDD_HHMM_<rev>_<slug>.sql" \
    "^($d1|$d2)_[0-9]{4}_[0-9a-f]{12}_random_id\.sql$" "$name"
rev=$(printf '%s' "$name" | cut -d_ -f3)
expect_eq "the header declares the revision of the name" "-- strata: revision=$rev" \
    "$(head -1 "r/$name")"
run create r "another random id" --head base
expect_code 0 "second random id"
rev2=$(printf '%s' "${OUT#Created r/}" | cut -d_ -f3)
checks=$((checks + 1))
[ "$rev" != "$rev2" ] || fail "two random revisions are equal: $rev"
export SOURCE_DATE_EPOCH=1704110400

# Slugs: lower case, one '_' per gap, at most 40 bytes, never a trailing '_'.
mkdir s
run create s "abcdefghi abcdefghi abcdefghi abcdefghi xyz" --rev-id 000000000001
expect_eq "a long slug is cut at a word gap" \
    "Created s/20240101_1200_000000000001_abcdefghi_abcdefghi_abcdefghi_abcdefghi.sql" "$OUT"
run create s --rev-id 000000000002 -- "--- ???"
expect_eq "a message without letters" "Created s/20240101_1200_000000000002_migration.sql" "$OUT"
run create s "  Ünïcode   and  ASCII-only  " --rev-id 000000000003
expect_eq "non-ASCII letters are gaps" "Created s/20240101_1200_000000000003_n_code_and_ascii_only.sql" "$OUT"
run create s "$(printf 'x%.0s' $(seq 1 60))" --rev-id 000000000004
expect_eq "a 60-letter word is cut at 40" \
    "Created s/20240101_1200_000000000004_$(printf 'x%.0s' $(seq 1 40)).sql" "$OUT"

# Every template makes a migration that passes check.
for t in add_column add_index add_table; do
    rm -rf t
    migration t/20240101_0000_5d8b746712b6_base.sql 5d8b746712b6 "" base
    run create t "with $t" --template "$t" --rev-id fc0bfa77ff5a
    expect_code 0 "create --template $t"
    f=t/20240101_1200_fc0bfa77ff5a_with_${t}.sql
    expect_eq "create --template $t output" "Created $f" "$OUT"
    expect_match "--template $t revises the head" 'revises=5d8b746712b6$' "$(head -1 "$f")"
    run check t
    expect_code 0 "check after create --template $t"
    expect_eq "check after --template $t" "t: 2 migrations, 1 head" "$OUT"
    expect_eq "check after --template $t: no diagnostics" "" "$ERR"
done
# add_foreign_key rebuilds the table on SQLite: from its real definition,
# so it needs the table's name (tests/autogen/cases/template_* run them).
rm -rf t
migration t/20240101_0000_5d8b746712b6_base.sql 5d8b746712b6 "" base \
    "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, other_id INTEGER);"
run create t "with add_foreign_key" --template add_foreign_key --rev-id fc0bfa77ff5a
expect_code 2 "create --template add_foreign_key without --table"
expect_eq "add_foreign_key without --table" \
    "strata-bundle: --template add_foreign_key rebuilds the table on SQLite, keeping every column it has: name it with --table" \
    "$ERR"
run create t "with add_foreign_key" --template add_foreign_key --table nosuch --rev-id fc0bfa77ff5a
expect_code 2 "create --template add_foreign_key --table nosuch"
expect_eq "add_foreign_key --table nosuch" \
    "strata-bundle: --table nosuch: the migrations create no such table; they have: jobs" "$ERR"
run create t "with add_foreign_key" --template add_foreign_key --table jobs --rev-id fc0bfa77ff5a
expect_code 0 "create --template add_foreign_key --table jobs"
f=t/20240101_1200_fc0bfa77ff5a_with_add_foreign_key.sql
expect_eq "create --template add_foreign_key output" "Created $f" "$OUT"
expect_match "--template add_foreign_key: foreign keys off" '^-- strata: foreign_keys=off$' "$(sed -n 3p "$f")"
run check t
expect_code 0 "check after create --template add_foreign_key"
run create t "x" --template add_colum
expect_code 2 "create --template unknown"
expect_eq "unknown template" \
    "strata-bundle: unknown template 'add_colum': choose one of add_column, add_index, add_table, add_foreign_key" \
    "$ERR"

finish
