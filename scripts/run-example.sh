#!/usr/bin/env bash
# Installs what is missing, builds strata and the example application silica
# (release preset), and runs silica on its default SQLite database in a fresh
# directory: the seeds' first-time setup (status, upgrade, status, history),
# then the application itself.
#   ./scripts/run-example.sh [WORK_DIR]     (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/deps.sh

strata_install_deps "${STRATA_BUILD_DEPS[@]}"

echo "==> building strata and silica (build/release)"
cmake --preset release >/dev/null
cmake --build --preset release --target silica strata-bundle
silica=$PWD/build/release/examples/silica/silica

work=${1:-$(mktemp -d /tmp/silica.XXXXXX)}
mkdir -p "$work"
cd "$work"
echo "==> in $work (database: silica-cron.db)"
step() {
    echo "\$ silica $*"
    set +e
    "$silica" "$@"
    echo "[exit $?]"
    set -e
}
step cron migrate status
step cron migrate upgrade
step cron migrate status
step cron migrate history
step cron prompt add daily-summary "Summarize today's activity"
step cron prompt list
step cron
