#!/usr/bin/env bash
# update-golden.sh [BUILD_DIR]
# Rebuilds strata-bundle in BUILD_DIR (default: build) and rewrites
# tests/generated/golden/ from tests/generated/fixture/. Review the diff.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
cmake --build "$build" --target strata-bundle
exec env STRATA_UPDATE_GOLDEN=1 "$src/tests/generated/golden.sh" \
    "$build/bundler/strata-bundle" "$src/tests/generated/fixture" \
    "$src/tests/generated/golden" "$build/tests/generated/golden-update"
