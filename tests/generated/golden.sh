#!/usr/bin/env bash
# golden.sh STRATA_BUNDLE FIXTURE_DIR GOLDEN_DIR WORK_DIR
#
# Generates the bundle of the fixture and compares it byte for byte with the
# checked-in golden files. To accept a deliberate change of the generated code
# (a new bundle format, a new compressor, a fixture edit), regenerate them:
#
#     STRATA_UPDATE_GOLDEN=1 ctest --test-dir BUILD -R generated.golden
#   or
#     tests/generated/update-golden.sh [BUILD_DIR]
#
# and review the diff before committing it.
set -euo pipefail

bundle=$1
fixture=$2
golden=$3
work=$4

rm -rf "$work"
mkdir -p "$work"
# No --source-dir: the golden must not depend on where the tree is checked out.
# --verify --dialect postgresql: lint's parse-tree rules, which record the
# fixture's destructive migration in the bundle; no replay, so no schema hash
# that depends on the engines installed.
"$bundle" generate --verify --dialect postgresql --namespace fixture \
    --out-c "$work/strata_bundle_fixture.c" --out-h "$work/strata_bundle_fixture.h" "$fixture" \
    2>"$work/lint.txt"

if [ "${STRATA_UPDATE_GOLDEN:-}" = 1 ]; then
    mkdir -p "$golden"
    cp "$work/strata_bundle_fixture.c" "$work/strata_bundle_fixture.h" "$golden/"
    echo "golden: updated $golden/strata_bundle_fixture.c and .h: review with git diff"
    exit 0
fi

status=0
for f in strata_bundle_fixture.c strata_bundle_fixture.h; do
    if ! cmp -s "$golden/$f" "$work/$f"; then
        echo "golden: $f differs from $golden/$f:" >&2
        diff -u "$golden/$f" "$work/$f" | head -60 >&2 || true
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    echo "golden: if the change is intended, regenerate with" >&2
    echo "    STRATA_UPDATE_GOLDEN=1 ctest -R generated.golden   (or tests/generated/update-golden.sh)" >&2
    exit 1
fi
echo "golden: strata_bundle_fixture.c and .h are byte-identical to the golden files"
