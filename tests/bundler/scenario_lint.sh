#!/usr/bin/env bash
# scenario_lint.sh STRATA_BUNDLE SOURCE_DIR: lint is deterministic (the same
# findings, JSON and bundle twice, from other directories), its JSON is
# valid, and the repository's own migrations lint: cron's are released
# (strata.lock) and left out, --all shows their four real warnings, notes
# has none.
set -u
sb=$1 src=$2
fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-lint.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# The generated-code fixture has a destructive migration: lint records it.
mkdir -p "$work/a/m" "$work/b/x/m"
cp "$src/tests/generated/fixture/"*.sql "$work/a/m/"
(cd "$src/tests/generated/fixture" && find . -name '*.sql' -print0 | sort -rz |
    xargs -0 -I{} cp {} "$work/b/x/m/")
for d in a b/x; do
    (cd "$work/$d" && "$sb" lint --format json m >lint.json 2>/dev/null)
    (cd "$work/$d" && "$sb" lint --dialect sqlite m >lint.txt 2>&1)
    (cd "$work/$d" && "$sb" generate --verify --namespace fx --out-c fx.c --out-h fx.h m 2>/dev/null) ||
        bad "generate --verify in $d"
done
for f in lint.json lint.txt fx.c fx.h; do
    if cmp -s "$work/a/$f" "$work/b/x/$f"; then ok "$f identical twice"; else
        bad "$f differs between two runs:"; diff "$work/a/$f" "$work/b/x/$f" | head -20
    fi
done
# flags 0x4: STRATA_MIGRATION_DESTRUCTIVE, read from the image
flags() { python3 "$src/tests/bundler/image_flags.py" "$1" | awk '$2 == "0x4" || $2 == "0x5"'; }
if command -v python3 >/dev/null; then
    [[ $(flags "$work/a/fx.c") == "ffff00000006 0x4" ]] &&
        ok "the bundle records the destructive migration" || bad "no record of the destructive migration"
fi
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["destructive"][0]["revision"] == "ffff00000006"' \
        <"$work/a/lint.json" && ok "lint --format json is valid JSON" || bad "invalid JSON"
fi

# A released migration (in strata.lock) that drops a column: lint leaves it
# out and the build passes, but the bundle still records it for production.
cp -r "$src/tests/fixtures/good/32_lint_released_left_out/migrations" "$work/rel"
if (cd "$work" && "$sb" generate --verify --namespace rel --out-c rel.c --out-h rel.h rel) &&
    { ! command -v python3 >/dev/null || [[ -n $(flags "$work/rel.c") ]]; }; then
    ok "a released destructive migration builds, and is recorded"
else
    bad "a released destructive migration: not built, or not recorded"
fi

# The repository's own migrations.
cd "$src" || exit 1
out=$("$sb" lint migrations/cron 2>&1)
[[ $? -eq 0 && $out == "migrations/cron: 0 migrations linted, no findings; 5 released (strata.lock) left out: --all lints them too" ]] &&
    ok "migrations/cron: released, left out" || { bad "migrations/cron:"; echo "$out"; }
out=$("$sb" lint --all migrations/cron 2>/dev/null)
rules=$("$sb" lint --all migrations/cron 2>&1 >/dev/null | sed -e 's|^.*/||' -e 's/: warning: .*\[/ [/')
want="20250817_0801_fc0bfa77ff5a_add_new_feature.sql:8:1 [require-concurrent-index-creation]
20250817_0801_fc0bfa77ff5a_add_new_feature.sql:10:1 [require-concurrent-index-creation]
20250818_1015_d41f6a8e2c57_add_template_relationship_to_prompts.sql:18:5 [adding-foreign-key-constraint]
20250818_1015_d41f6a8e2c57_add_template_relationship_to_prompts.sql:19:1 [require-concurrent-index-creation]"
[[ $out == "migrations/cron: 5 migrations linted, 0 errors, 4 warnings" && $rules == "$want" ]] &&
    ok "migrations/cron --all: four warnings" || { bad "migrations/cron --all:"; echo "$out"; diff <(echo "$want") <(echo "$rules"); }
out=$("$sb" lint migrations/notes 2>&1)
[[ $? -eq 0 && $out == "migrations/notes: 2 migrations linted, no findings" ]] &&
    ok "migrations/notes: no findings" || { bad "migrations/notes:"; echo "$out"; }
exit $fail
