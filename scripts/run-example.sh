#!/usr/bin/env bash
# Installs what is missing, builds strata (release preset) and shows the
# example application's migrations as strata-bundle sees them: checked, then
# listed newest first.
#   ./scripts/run-example.sh [MIGRATIONS_DIR]     (default: migrations/cron)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/deps.sh

strata_install_deps "${STRATA_BUILD_DEPS[@]}"

dir=${1:-migrations/cron}
[[ -d $dir ]] || {
    echo "error: no migrations directory '$dir'" >&2
    exit 2
}

echo "==> building strata-bundle (build/release)"
cmake --preset release >/dev/null
cmake --build --preset release --target strata-bundle
bundle=build/release/bundler/strata-bundle

echo "==> strata-bundle check $dir"
"$bundle" check "$dir"
echo "==> strata-bundle history --verbose $dir"
"$bundle" history --verbose "$dir"
