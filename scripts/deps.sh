# Sourced by the scripts in this directory: strata_install_deps PACKAGE...
# installs the Debian packages among PACKAGE... that are missing, with
# apt-get, as root or through sudo; apt-get update runs only when something
# is missing. Never prompts.

strata_install_deps() {
    local missing=() pkg sudo=()
    for pkg in "$@"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
            missing+=("$pkg")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "error: missing packages (${missing[*]}) and no apt-get to install them" >&2
        return 1
    fi
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || {
            echo "error: missing packages (${missing[*]}): run as root or install sudo" >&2
            return 1
        }
        sudo=(sudo -n)
    fi
    echo "==> installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" </dev/null
}

# What building strata needs (libpg-query-dev: strata-bundle verify's
# PostgreSQL parser; libstrata does not link it).
STRATA_BUILD_DEPS=(cmake ninja-build gcc libc6-dev pkg-config zlib1g-dev libxxhash-dev
    libsqlite3-dev libpq-dev libpg-query-dev)

# What the whole test suite needs on top: a PostgreSQL server and client
# (tests/pg), PgBouncer, valgrind, clang with its sanitizer runtime and
# clang-format (tests/style), a C++ compiler (tests/headers), the sqlite3 and
# psql command-line tools, python3, jq, git.
STRATA_TEST_DEPS=(postgresql postgresql-client pgbouncer valgrind clang libclang-rt-14-dev
    clang-format g++ sqlite3 python3 jq git)

# What the static presets need on top of the build (docs/deploy/README.md):
# libpq's static archive needs the frontend halves of libpgcommon and
# libpgport (postgresql-server-dev-15) and a static OpenSSL (libssl-dev);
# cmake/strata_static_pq.c, which stands in for GSSAPI and LDAP (no static
# archives exist), compiles against their headers (libkrb5-dev,
# libldap-dev); the tests run the binaries in an empty root (util-linux's
# unshare) and ask file(1) how they are linked. libsqlite3-dev, zlib1g-dev
# and libxxhash-dev already ship their .a files.
STRATA_STATIC_DEPS=(postgresql-server-dev-15 libssl-dev libkrb5-dev libldap-dev util-linux file)

# The peers of the performance benchmark (bench/perf_bench.sh), optional:
# not installed by CI (the guard, bench.perf_quick, measures strata against
# its floors only). The benchmark includes each one it finds:
#   . scripts/deps.sh && strata_install_deps "${STRATA_BENCH_DEPS[@]}"
STRATA_BENCH_DEPS=(sql-migrate alembic python3-psycopg2)
