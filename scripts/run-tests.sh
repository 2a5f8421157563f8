#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite:
#   1. preset ci:    gcc, warnings are errors, every test
#   2. preset asan:  gcc with AddressSanitizer and UndefinedBehaviorSanitizer
#   3. preset clang: clang, warnings are errors, every test and the fuzz targets
#   4. preset shared: a shared libstrata (BUILD_SHARED_LIBS), every test
#   5. presets static, static-pg, static-pg-full: silica linked statically (glibc
#      included; all but glibc; glibc and libpq included) and the deploy tests
#      on each binary (label deploy: empty root, socket and TCP, consumer)
# Stops at the first failing step; exit status 0 only when all passed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/deps.sh

start=$SECONDS
strata_install_deps "${STRATA_BUILD_DEPS[@]}" "${STRATA_TEST_DEPS[@]}" "${STRATA_STATIC_DEPS[@]}"

export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$(nproc)}
for preset in ci asan clang shared static static-pg static-pg-full; do
    echo "==> cmake --workflow --preset $preset"
    step=$SECONDS
    cmake --workflow --preset "$preset"
    echo "==> $preset: passed in $((SECONDS - step)) s"
done
echo "==> all passed in $((SECONDS - start)) s"
