#!/usr/bin/env bash
# perf_bench.sh - strata against its floors and its peers, side by side in one
# run (bench/README.md, "Performance"; docs/performance.md has a run).
#
# usage: bench/perf_bench.sh [--quick] [--n "10 100 1000"] [--rounds R]
#            [--apply-rounds R] [--only "SCENARIO..."] [--bundle-n N]
#            [--no-pg] [--no-peers] [--no-valgrind] [--sqlite-dir DIR]
#            [--out FILE]
#
# Scenarios (--only picks some; default all):
#   startup-sqlite   no-op start on an up-to-date SQLite file: the floor opens
#                    it and reads the version table; strata's default build
#                    (SQLite + libpq) and SQLite-only build; the sqlite3 CLI;
#                    peers' no-op upgrade
#   startup-pg       the same on PostgreSQL: the floor connects and reads the
#                    version table; statements and connections per start
#   apply-sqlite     N migrations on a new SQLite file: the floor runs them in
#                    one transaction, and with a transaction per migration;
#                    strata's default (migrations share a transaction, each
#                    in a savepoint, committed every 250 ms) and
#                    --single-transaction
#   apply-pg         N migrations on a new PostgreSQL database: the floor sends
#                    one message per migration (BEGIN, SQL, version row, COMMIT)
#   apply-pg-single  the same in one transaction: floor, psql -1, strata
#                    --single-transaction, Alembic (its default)
#   footprint        bytes the generated bundle adds to a stripped binary,
#                    against gzip -9 of the files
#   bundle           strata-bundle generate + cc -O2 -c of --bundle-n
#                    (default 10000) ordinary migrations (about 2 KB each),
#                    against gzip -9 + an .incbin of the result
#   profile          valgrind (callgrind) of one no-op start at the largest N:
#                    instructions per part of the startup path (loading, bundle
#                    verification, reading the applied set, judging, ...)
#
# Every contender reads the same statements: `gen_migrations --portable
# --size 270` (about 630 bytes a file) converted by perf_convert.awk into
# each tool's format. Whole processes, timed by perf_run: rounds interleave
# the contenders and pair each with the floor's run of the same round, so
# the ratios hold on a loaded machine where plain medians drift. Peers are
# included when installed (Debian: sql-migrate, alembic, python3-psycopg2);
# PostgreSQL scenarios start a throwaway server (tests/pg/pg_fixture.sh).
# valgrind adds instruction counts of the startup path (notes column).
#
# SQLite files are made in the work directory (on disk: every commit waits
# for fsync, as an application's would); --sqlite-dir /dev/shm puts them in
# memory, which leaves the CPU's share.
#
# --quick: the CI guard (ctest bench.perf_quick): N = 100, SQLite, floors and
# strata only, asserting paired ratios with generous bounds (perf_run
# --assert); never an absolute time.
#
# Builds (cmake; -j2): strata Release, installed, in $STRATA_PERF_BUILD
# (default build/perf), also SQLite-only; the contenders in bench/perf/
# against the installed package (find_package, strata_add_migrations). With
# STRATA_PERF_TOOLS=BUILD_DIR, that build's strata and tools are used
# instead (what the ctest does). STRATA_PERF_KEEP=1 keeps the work directory.
set -euo pipefail
export LC_ALL=C

usage() {
    sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 ns="10 100 1000" rounds=11 apply_rounds=5 only="" bundle_n=10000
use_pg=1 use_peers=1 use_valgrind=1 out="" sqlite_dir=""
cmdline="bench/perf_bench.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) quick=1 ;;
    --n) ns=${2:?--n needs a list} && shift ;;
    --rounds) rounds=${2:?} && shift ;;
    --apply-rounds) apply_rounds=${2:?} && shift ;;
    --only) only=${2:?} && shift ;;
    --bundle-n) bundle_n=${2:?} && shift ;;
    --no-pg) use_pg=0 ;;
    --no-peers) use_peers=0 ;;
    --no-valgrind) use_valgrind=0 ;;
    --out) out=${2:?} && shift ;;
    --sqlite-dir) sqlite_dir=${2:?} && shift ;;
    -h | --help) usage ;;
    *)
        echo "perf_bench: unknown argument '$1'" >&2
        usage
        ;;
    esac
    shift
done
if [[ $quick -eq 1 ]]; then
    ns=100 rounds=7 apply_rounds=7 use_pg=0 use_peers=0 use_valgrind=0
    only=${only:-"startup-sqlite apply-sqlite"}
fi
only=${only:-"startup-sqlite startup-pg apply-sqlite apply-pg apply-pg-single footprint bundle profile"}
wants() { [[ " $only " == *" $1 "* ]]; }

say() { echo "perf_bench: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

build=${STRATA_PERF_BUILD:-$src/build/perf}
tools_build=${STRATA_PERF_TOOLS:-}
mkdir -p "$build"
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-perf.XXXXXX")
log=$work/perf.log
: >"$log"
pg_env="" dbdir=""
cleanup() {
    local st=$?
    if [[ -n $pg_env && -f $pg_env ]]; then
        bash "$src/tests/pg/pg_fixture.sh" stop "$pg_env" >/dev/null 2>&1 || true
    fi
    if [[ ${STRATA_PERF_KEEP:-} == 1 || $st -ne 0 ]]; then
        say "work directory kept: $work (log: $log)"
    else
        rm -rf "$work"
    fi
    [[ -n $sqlite_dir && $dbdir == "$sqlite_dir"/strata-perf.* ]] && rm -rf "$dbdir"
    return 0
}
trap cleanup EXIT

gen_args=(--portable --size 270)
cmake_gen=()
command -v ninja >/dev/null && cmake_gen=(-G Ninja)

# ---------------------------------------------------------------- builds
# strata_build DIR PREFIX CMAKE_ARGS...: a Release strata, installed in PREFIX.
strata_build() {
    local dir=$1 prefix=$2
    shift 2
    say "building strata in $dir ($*)"
    if [[ ! -f $dir/CMakeCache.txt ]]; then
        cmake -S "$src" -B "$dir" "${cmake_gen[@]}" -DCMAKE_BUILD_TYPE=Release \
            -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=OFF "$@" >>"$log" 2>&1 ||
            die "configure failed (see $log)"
    fi
    cmake --build "$dir" -j2 --target "${targets[@]}" >>"$log" 2>&1 || die "build failed (see $log)"
    cmake --install "$dir" --prefix "$prefix" >>"$log" 2>&1 || die "install failed (see $log)"
}

prefix_sqlite=""
if [[ -n $tools_build ]]; then
    tools=$tools_build/bench
    prefix=$build/prefix
    say "strata and tools from $tools_build"
    cmake --install "$tools_build" --prefix "$prefix" >>"$log" 2>&1 || die "install failed (see $log)"
else
    targets=(strata strata-bundle gen_migrations perf_run floor_sqlite floor_sqlite_pq floor_pg)
    strata_build "$build/strata" "$build/prefix" -DSTRATA_BUILD_BENCH=ON
    tools=$build/strata/bench
    prefix=$build/prefix
    if wants startup-sqlite || wants profile; then
        targets=(strata strata-bundle)
        strata_build "$build/strata-sqlite" "$build/prefix-sqlite" -DSTRATA_BUILD_BENCH=OFF \
            -DSTRATA_WITH_POSTGRESQL=OFF
        prefix_sqlite=$build/prefix-sqlite
    fi
fi
for t in gen_migrations perf_run floor_sqlite; do
    [[ -x $tools/$t ]] || die "$tools/$t not built"
done
have_pq_floor=0
[[ -x $tools/floor_pg && -x $tools/floor_sqlite_pq ]] && have_pq_floor=1
run=$tools/perf_run

# ------------------------------------------------------ the migrations
# Generated in the build directory and replaced only when they change, so
# that the contenders are rebuilt only then.
gen_set() { # gen_set DIR N [ARGS...]
    local dir=$1 n=$2
    shift 2
    rm -rf "$work/gen.tmp"
    "$tools/gen_migrations" "$@" "$work/gen.tmp" "$n" 2>>"$log"
    if ! diff -r -q "$work/gen.tmp" "$dir" >/dev/null 2>&1; then
        rm -rf "$dir"
        mv "$work/gen.tmp" "$dir"
    fi
}
mkdir -p "$build/gen" "$work/conv" "$work/db"
# The databases. The guard keeps SQLite files in memory (/dev/shm) where it
# can: a commit's fsync costs the floor and strata alike and only adds noise.
dbdir=$work/db
if [[ $quick -eq 1 && -z $sqlite_dir && -d /dev/shm && -w /dev/shm ]]; then
    sqlite_dir=/dev/shm
fi
if [[ -n $sqlite_dir ]]; then
    dbdir=$(mktemp -d "$sqlite_dir/strata-perf.XXXXXX")
fi
sets="" footprint_sets=""
for n in $ns; do
    [[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || die "bad N '$n'"
    gen_set "$build/gen/n$n" "$n" "${gen_args[@]}"
    mkdir -p "$work/conv/n$n/sql-migrate" "$work/conv/n$n/alembic/versions"
    awk -v out="$work/conv/n$n" -f "$src/bench/perf_convert.awk" "$build/gen/n$n"/*.sql >>"$log"
    sets+="${sets:+;}n$n=$build/gen/n$n"
    footprint_sets+="${footprint_sets:+;}n$n=$build/gen/n$n"
done
wants footprint || footprint_sets=""

# --------------------------------------------------------- contenders
perf_project() { # perf_project DIR PREFIX SETS FOOTPRINT
    say "building the contenders in $1"
    cmake -S "$src/bench/perf" -B "$1" "${cmake_gen[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$2" -DPERF_SETS="$3" -DPERF_FOOTPRINT="$4" \
        ${STRATA_PERF_CFLAGS:+-DCMAKE_C_FLAGS="$STRATA_PERF_CFLAGS"} \
        ${STRATA_PERF_LDFLAGS:+-DCMAKE_EXE_LINKER_FLAGS="$STRATA_PERF_LDFLAGS"} \
        >>"$log" 2>&1 || die "configure of bench/perf failed (see $log)"
    cmake --build "$1" -j2 >>"$log" 2>&1 || die "build of bench/perf failed (see $log)"
}
perf_project "$build/perf" "$prefix" "$sets" "$footprint_sets"
contender_dir=$build/perf
sqlite_only_dir=""
if [[ -n $prefix_sqlite ]]; then
    perf_project "$build/perf-sqlite" "$prefix_sqlite" "$sets" ""
    sqlite_only_dir=$build/perf-sqlite
fi

# -------------------------------------------------------------- peers
have_sm=0 have_al=0 have_al_pg=0
if [[ $use_peers -eq 1 ]]; then
    command -v sql-migrate >/dev/null && have_sm=1
    if command -v alembic >/dev/null; then
        have_al=1
        alembic_py=$(head -n 1 "$(command -v alembic)" | sed -n 's/^#! *//p')
        "${alembic_py:-python3}" -c 'import psycopg2' 2>/dev/null && have_al_pg=1
    fi
    [[ $have_sm -eq 1 ]] || say "sql-migrate not installed: left out (apt-get install sql-migrate)"
    [[ $have_al -eq 1 ]] || say "alembic not installed: left out (apt-get install alembic python3-psycopg2)"
fi
# Alembic's env.py and ini, generated (not third-party code kept in the tree):
# the URL and the transaction mode come with -x.
for n in $ns; do
    cat >"$work/conv/n$n/alembic/env.py" <<'EOF'
from alembic import context
from sqlalchemy import create_engine

x = context.get_x_argument(as_dictionary=True)
engine = create_engine(x["url"])
with engine.connect() as connection:
    context.configure(connection=connection,
                      transaction_per_migration=x.get("per_migration") == "1")
    with context.begin_transaction():
        context.run_migrations()
EOF
    printf '[alembic]\nscript_location = %s\n' "$work/conv/n$n/alembic" >"$work/conv/n$n/alembic.ini"
done
# sm_config NAME DIALECT DATASOURCE DIR: a sql-migrate config file; prints its path.
sm_config() {
    local f=$work/conf-$1.yml
    printf 'bench:\n  dialect: %s\n  datasource: %s\n  dir: %s\n' "$2" "$3" "$4" >"$f"
    echo "$f"
}

# -------------------------------------------------------------- PostgreSQL
pg_port="" pg_url=""
if [[ $use_pg -eq 1 ]] && { wants startup-pg || wants apply-pg || wants apply-pg-single; }; then
    if [[ $have_pq_floor -eq 0 ]]; then
        say "no PostgreSQL floor (a SQLite-only build): PostgreSQL scenarios left out"
        use_pg=0
    elif ! command -v psql >/dev/null; then
        say "psql not found: PostgreSQL scenarios left out (apt-get install postgresql)"
        use_pg=0
    else
        pg_env=$work/pg.env
        bash "$src/tests/pg/pg_fixture.sh" start "$pg_env" >>"$log" 2>&1 ||
            die "the PostgreSQL server did not start (see $log)"
        # shellcheck disable=SC1090
        . "$pg_env"
        pg_port=$STRATA_PG_PORT
        pg_url=$STRATA_PG_URL
        pg_log=$STRATA_PG_DIR/server.log
    fi
else
    use_pg=0
fi
pgdb_url() { echo "postgresql://postgres@127.0.0.1:$pg_port/$1"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$pg_url" "$@" >>"$log" 2>&1; }
# The setup of a run on a new database: drop and create it.
cat >"$work/pg_reset.sh" <<EOF
#!/usr/bin/env bash
set -eu
psql -X -q -v ON_ERROR_STOP=1 -d '$pg_url' -c "DROP DATABASE IF EXISTS \"\$1\" WITH (FORCE)" \\
    -c "CREATE DATABASE \"\$1\""
EOF
chmod +x "$work/pg_reset.sh"

# ---------------------------------------------------------- measuring
report=$work/report.md
emit() { printf '%s\n' "$*" | tee -a "$report"; }
# instructions CMD...: valgrind's instruction count of one run, as "Ir 1.23 M".
instructions() {
    local f=$work/callgrind.$$.$RANDOM
    [[ $use_valgrind -eq 1 ]] && command -v valgrind >/dev/null || return 0
    if valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >>"$log" 2>&1; then
        awk '/^summary:/ { printf "Ir %.2f M", $2 / 1e6 }' "$f"
    else
        echo "valgrind failed"
    fi
    rm -f "$f"
}
# pg_statements DB CMD...: statements and connections one run makes, from the
# server log with log_statement=all on DB and log_connections on.
pg_statements() {
    local db=$1 before stmts conns
    shift
    psql_admin -c "ALTER DATABASE \"$db\" SET log_statement = 'all'"
    before=$(wc -l <"$pg_log")
    "$@" >>"$log" 2>&1 || {
        echo "failed"
        return 0
    }
    sleep 0.2
    stmts=$(tail -n +"$((before + 1))" "$pg_log" | grep -c 'LOG:  \(statement\|execute [^:]*\):' || true)
    conns=$(tail -n +"$((before + 1))" "$pg_log" | grep -c 'LOG:  connection authorized' || true)
    psql_admin -c "ALTER DATABASE \"$db\" RESET log_statement"
    echo "$stmts statement(s), $conns connection(s)"
}
# spec_line NAME SETUP COMMAND NOTE
spec_line() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:--}"; }
# measure SPEC LABEL HEADER(0|1) ROUNDS TARGET_MS [perf_run options...]
status=0
measure() {
    local spec=$1 label=$2 header=$3 r=$4 target=$5 hdr=()
    shift 5
    [[ $header -eq 1 ]] && hdr=(--header)
    say "measuring: $(head -n 1 "$spec" | cut -f1) and $(($(wc -l <"$spec") - 1)) more, N = $label"
    "$run" "${hdr[@]}" --rounds "$r" --target-ms "$target" --label "$label" --log "$log" "$@" \
        "$spec" 2>>"$work/asserts.txt" | tee -a "$report" || status=1
}

load() { cut -d ' ' -f 1-3 /proc/loadavg; }
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
read_cols="revision, exact, loose, message, applied_at, applied_by, state, duration_ms"
vt=bench_strata_version

emit "# strata performance, $(date -u '+%Y-%m-%d %H:%M') UTC"
emit ""
emit "- command: \`$cmdline\`$([[ -n $tools_build ]] && echo " (strata and tools of $tools_build)")"
emit "- machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GB, $(uname -sr); load average at the start: $(load)"
emit "- strata $(git -C "$src" describe --always --dirty 2>/dev/null || echo '?') ($([[ -n $tools_build ]] && echo "the given build" || echo "Release")), $(cc --version | head -n 1), SQLite $(ver libsqlite3-0), libpq $(ver libpq5)$([[ $use_pg -eq 1 ]] && echo ", PostgreSQL server $("$STRATA_PG_BINDIR_USED/postgres" --version | awk '{print $3}') (fsync off)")"
[[ $have_sm -eq 1 ]] && emit "- sql-migrate $(ver sql-migrate) (Debian)"
[[ $have_al -eq 1 ]] && emit "- Alembic $(ver alembic), SQLAlchemy $(ver python3-sqlalchemy), psycopg2 $(ver python3-psycopg2) (Debian)"
for n in $ns; do
    emit "- N = $n: $(cat "$build/gen/n$n"/*.sql | wc -c) bytes of migrations ($(($(cat "$build/gen/n$n"/*.sql | wc -c) / n)) a file), \`gen_migrations ${gen_args[*]}\`"
done
emit "- SQLite files in $([[ -n $sqlite_dir ]] && echo "$sqlite_dir" || echo "the work directory, $(df --output=fstype "$dbdir" | tail -n 1) ($(df --output=source "$dbdir" | tail -n 1))")"
emit "- columns: wall time per run (median and range of the rounds' means); the paired ratio to the floor (median and range over the rounds); CPU time (user + system) likewise; rounds x runs per round; the largest peak RSS of any run"

# ----------------------------------------------------- startup, SQLite
if wants startup-sqlite; then
    emit ""
    emit "## No-op startup, SQLite"
    emit ""
    emit "Floor: a C program (floor_sqlite.c) that opens the database and reads every row of strata's version table, the query a no-op strata start makes. floor + libpq: the same program also linked with libpq, what the loader costs a build with the PostgreSQL backend. strata: \`strata_startup\` in production (perf_contender.c). Peers: a no-op \`up\`."
    emit ""
    header=1
    for n in $ns; do
        db=$dbdir/startup$n.db url="sqlite:///$dbdir/startup$n.db"
        bin=$contender_dir/strata_n$n
        "$bin" startup "$url" >>"$log" 2>&1 || die "strata could not migrate $db (see $log)"
        spec=$work/startup-sqlite-$n.spec
        {
            spec_line "floor" - "$tools/floor_sqlite read $db $vt" \
                "$(instructions "$tools/floor_sqlite" read "$db" "$vt")"
            if [[ $have_pq_floor -eq 1 ]]; then
                spec_line "floor + libpq" - "$tools/floor_sqlite_pq read $db $vt" \
                    "$(instructions "$tools/floor_sqlite_pq" read "$db" "$vt")"
            fi
            [[ $quick -eq 0 ]] && command -v sqlite3 >/dev/null &&
                spec_line "sqlite3 CLI" - "sqlite3 $db 'SELECT $read_cols FROM $vt'" \
                    "$(instructions sqlite3 "$db" "SELECT $read_cols FROM $vt")"
            spec_line "strata" - "$bin startup $url" "$(instructions "$bin" startup "$url")"
            if [[ -n $sqlite_only_dir ]]; then
                spec_line "strata, SQLite-only build" - "$sqlite_only_dir/strata_n$n startup $url" \
                    "$(instructions "$sqlite_only_dir/strata_n$n" startup "$url")"
            fi
            if [[ $have_sm -eq 1 ]]; then
                cfg=$(sm_config "ss$n" sqlite3 "$dbdir/sm$n.db" "$work/conv/n$n/sql-migrate")
                sql-migrate up -config="$cfg" -env=bench >>"$log" 2>&1
                spec_line "sql-migrate up" - "sql-migrate up -config=$cfg -env=bench"
            fi
            if [[ $have_al -eq 1 ]]; then
                a=(alembic -c "$work/conv/n$n/alembic.ini" -x "url=sqlite:///$dbdir/al$n.db")
                "${a[@]}" upgrade head >>"$log" 2>&1
                spec_line "alembic upgrade head" - "${a[*]} upgrade head"
            fi
        } >"$spec"
        asserts=()
        if [[ $quick -eq 1 ]]; then
            # The guard: against the plain floor, so a start on SQLite that
            # loads libpq again fails it (about 3x the floor's whole start
            # at N = 100). A build that links libpq (STRATA_LIBPQ_DLOPEN=OFF)
            # is held to the floor that loads the same libraries.
            asserts=(--assert "strata<2")
            if [[ $have_pq_floor -eq 1 ]] && ldd "$bin" 2>/dev/null | grep -q libpq; then
                asserts=(--assert "strata/floor + libpq<2")
            fi
        fi
        measure "$spec" "$n" "$header" "$rounds" $((quick ? 100 : 200)) "${asserts[@]}"
        header=0
    done
fi

# --------------------------------------------------- startup, PostgreSQL
if [[ $use_pg -eq 1 ]] && wants startup-pg; then
    emit ""
    emit "## No-op startup, PostgreSQL"
    emit ""
    emit "Floor: a C program (floor_pg.c) that connects (TCP, 127.0.0.1) and reads every row of the version table. Statements and connections per start are counted in the server's log (log_statement = all, log_connections) in one extra run; the goal is still 1 statement."
    emit ""
    psql_admin -c "ALTER SYSTEM SET log_connections = on" -c "SELECT pg_reload_conf()"
    header=1
    for n in $ns; do
        db=b${n}_strata url=$(pgdb_url "b${n}_strata")
        bin=$contender_dir/strata_n$n
        "$work/pg_reset.sh" "$db" >>"$log" 2>&1
        "$bin" startup "$url" >>"$log" 2>&1 || die "strata could not migrate $db (see $log)"
        spec=$work/startup-pg-$n.spec
        {
            spec_line "floor" - "$tools/floor_pg read $url $vt" \
                "$(instructions "$tools/floor_pg" read "$url" "$vt"); $(pg_statements "$db" "$tools/floor_pg" read "$url" "$vt")"
            spec_line "psql -c" - "psql -X -q -At -d $url -c 'SELECT $read_cols FROM $vt'" \
                "$(pg_statements "$db" psql -X -q -At -d "$url" -c "SELECT $read_cols FROM $vt")"
            spec_line "strata" - "$bin startup $url" \
                "$(instructions "$bin" startup "$url"); $(pg_statements "$db" "$bin" startup "$url")"
            if [[ $have_sm -eq 1 ]]; then
                "$work/pg_reset.sh" "b${n}_sm" >>"$log" 2>&1
                cfg=$(sm_config "sp$n" postgres \
                    "host=127.0.0.1 port=$pg_port user=postgres dbname=b${n}_sm sslmode=disable" \
                    "$work/conv/n$n/sql-migrate")
                sql-migrate up -config="$cfg" -env=bench >>"$log" 2>&1
                spec_line "sql-migrate up" - "sql-migrate up -config=$cfg -env=bench" \
                    "$(pg_statements "b${n}_sm" sql-migrate up -config="$cfg" -env=bench)"
            fi
            if [[ $have_al_pg -eq 1 ]]; then
                "$work/pg_reset.sh" "b${n}_al" >>"$log" 2>&1
                a=(alembic -c "$work/conv/n$n/alembic.ini"
                    -x "url=postgresql+psycopg2://postgres@127.0.0.1:$pg_port/b${n}_al")
                "${a[@]}" upgrade head >>"$log" 2>&1
                spec_line "alembic upgrade head" - "${a[*]} upgrade head" \
                    "$(pg_statements "b${n}_al" "${a[@]}" upgrade head)"
            fi
        } >"$spec"
        measure "$spec" "$n" "$header" "$rounds" 200
        header=0
    done
    psql_admin -c "ALTER SYSTEM RESET log_connections" -c "SELECT pg_reload_conf()"
fi

# ------------------------------------------------------- apply, SQLite
if wants apply-sqlite; then
    emit ""
    emit "## Apply N migrations, SQLite"
    emit ""
    emit "A new database file per run (removed before it, not timed). Floor: a C program (floor_sqlite.c) that runs every migration and inserts its version row in one transaction. strata: \`strata_upgrade\` to heads in production: by default migrations share a transaction, each in a savepoint (each fails alone, the ones before it committed), committed every 250 ms. Peers with their defaults: sql-migrate one transaction per migration; Alembic on SQLite no transactional DDL."
    emit ""
    header=1
    for n in $ns; do
        c=$work/conv/n$n bin=$contender_dir/strata_n$n d=$dbdir
        spec=$work/apply-sqlite-$n.spec
        {
            spec_line "floor, one transaction" "rm -f $d/af$n.db*" \
                "$tools/floor_sqlite apply $d/af$n.db $c/floor.txt floor_version"
            spec_line "floor, a transaction per migration" "rm -f $d/ap$n.db*" \
                "$tools/floor_sqlite apply $d/ap$n.db $c/floor.txt floor_version --per-migration"
            [[ $quick -eq 0 ]] && command -v sqlite3 >/dev/null &&
                spec_line "sqlite3 CLI, one transaction" "rm -f $d/ac$n.db*" \
                    "sqlite3 -bail $d/ac$n.db '.read $c/sqlite_single.sql'"
            spec_line "strata" "rm -f $d/as$n.db*" "$bin apply sqlite:///$d/as$n.db"
            spec_line "strata --single-transaction" "rm -f $d/a1$n.db*" \
                "$bin apply sqlite:///$d/a1$n.db --single-transaction"
            if [[ $have_sm -eq 1 ]]; then
                cfg=$(sm_config "as$n" sqlite3 "$d/asm$n.db" "$c/sql-migrate")
                spec_line "sql-migrate up" "rm -f $d/asm$n.db*" "sql-migrate up -config=$cfg -env=bench"
            fi
            if [[ $have_al -eq 1 ]]; then
                spec_line "alembic upgrade head" "rm -f $d/aal$n.db*" \
                    "alembic -c $c/alembic.ini -x url=sqlite:///$d/aal$n.db upgrade head"
            fi
        } >"$spec"
        asserts=()
        # The guard: strata's default against the one-transaction floor (a
        # commit per migration again is 6-25x it on disk), and against the
        # floor with a commit per migration.
        [[ $quick -eq 1 ]] && asserts=(--assert "strata<3"
            --assert "strata/floor, a transaction per migration<3"
            --assert "strata --single-transaction<4")
        measure "$spec" "$n" "$header" "$apply_rounds" 0 --warmups 1 "${asserts[@]}"
        header=0
    done
fi

# --------------------------------------------------- apply, PostgreSQL
apply_pg() { # apply_pg single(0|1)
    local single=$1 n c bin spec header=1 f=""
    [[ $single -eq 1 ]] && f=1
    for n in $ns; do
        c=$work/conv/n$n bin=$contender_dir/strata_n$n
        spec=$work/apply-pg$f-$n.spec
        {
            if [[ $single -eq 0 ]]; then
                spec_line "floor, a message per migration" "$work/pg_reset.sh a${n}_f" \
                    "$tools/floor_pg apply $(pgdb_url "a${n}_f") $c/floor.txt floor_version"
                spec_line "psql -f" "$work/pg_reset.sh a${n}_p" \
                    "psql -X -q -d $(pgdb_url "a${n}_p") -f $c/psql_per.sql"
                spec_line "strata" "$work/pg_reset.sh a${n}_s" "$bin apply $(pgdb_url "a${n}_s")"
            else
                spec_line "floor, one transaction" "$work/pg_reset.sh a${n}_f1" \
                    "$tools/floor_pg apply $(pgdb_url "a${n}_f1") $c/floor.txt floor_version --single"
                spec_line "psql -1 -f" "$work/pg_reset.sh a${n}_p1" \
                    "psql -X -q -1 -d $(pgdb_url "a${n}_p1") -f $c/psql_single.sql"
                spec_line "strata --single-transaction" "$work/pg_reset.sh a${n}_s1" \
                    "$bin apply $(pgdb_url "a${n}_s1") --single-transaction"
            fi
            if [[ $have_sm -eq 1 && $single -eq 0 ]]; then
                cfg=$(sm_config "ap$n" postgres \
                    "host=127.0.0.1 port=$pg_port user=postgres dbname=a${n}_sm sslmode=disable" \
                    "$c/sql-migrate")
                spec_line "sql-migrate up" "$work/pg_reset.sh a${n}_sm" \
                    "sql-migrate up -config=$cfg -env=bench"
            fi
            if [[ $have_al_pg -eq 1 ]]; then
                if [[ $single -eq 0 ]]; then
                    spec_line "alembic upgrade head (transaction_per_migration)" \
                        "$work/pg_reset.sh a${n}_al" \
                        "alembic -c $c/alembic.ini -x url=postgresql+psycopg2://postgres@127.0.0.1:$pg_port/a${n}_al -x per_migration=1 upgrade head"
                else
                    spec_line "alembic upgrade head" "$work/pg_reset.sh a${n}_al1" \
                        "alembic -c $c/alembic.ini -x url=postgresql+psycopg2://postgres@127.0.0.1:$pg_port/a${n}_al1 upgrade head"
                fi
            fi
        } >"$spec"
        measure "$spec" "$n" "$header" "$apply_rounds" 0 --warmups 1
        header=0
    done
}
if [[ $use_pg -eq 1 ]] && wants apply-pg; then
    emit ""
    emit "## Apply N migrations, PostgreSQL"
    emit ""
    emit "A new database per run (dropped and created before it, not timed). Floor: a C program (floor_pg.c) that sends each migration as one message: BEGIN, its SQL, its version row, COMMIT. strata: \`strata_upgrade\` to heads in production (a transaction per migration, up to 100 in one message). psql -f: the same script, statement by statement. Peers: sql-migrate (a transaction per migration), Alembic with transaction_per_migration."
    emit ""
    apply_pg 0
fi
if [[ $use_pg -eq 1 ]] && wants apply-pg-single; then
    emit ""
    emit "## Apply N migrations, PostgreSQL, one transaction"
    emit ""
    emit "Floor: BEGIN, then one message per migration (its SQL and its version row), COMMIT. strata: \`strata_upgrade\` with STRATA_SINGLE_TRANSACTION (\`--single-transaction\`). Alembic: its default (one transaction for the whole upgrade)."
    emit ""
    apply_pg 1
fi

# ---------------------------------------------------------- footprint
if wants footprint; then
    emit ""
    emit "## Bundle footprint in the binary"
    emit ""
    emit "Every byte the generated object adds: the stripped size of a small program that uses the bundle (perf_footprint.c, built with strata_add_migrations, Release) minus the same program without it; against gzip -9 of the concatenated migration files."
    emit ""
    emit "| N | migration files, bytes | gzip -9 | bundle in the binary | / gzip -9 | / files | of which the image (tables, checksums, strings, scripts) | image / gzip -9 |"
    emit "|---:|---:|---:|---:|---:|---:|---:|---:|"
    strip -o "$work/none" "$contender_dir/footprint_none"
    for n in $ns; do
        raw=$(cat "$build/gen/n$n"/*.sql | wc -c)
        gz=$(cat "$build/gen/n$n"/*.sql | gzip -9 | wc -c)
        strip -o "$work/fp" "$contender_dir/footprint_n$n"
        fp=$(($(stat -c %s "$work/fp") - $(stat -c %s "$work/none")))
        obj=$(find "$contender_dir/CMakeFiles/footprint_n$n.dir" -name 'strata_bundle_bench.c.o' | head -n 1)
        # the object's one array, the image (format 7; its literal's NUL included)
        img=$(nm -S -t d "$obj" | awk 'NF == 4 && $4 == "image" { p += $2 } END { print p + 0 }')
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
        emit "| $n | $raw | $gz | $fp | **$(ratio "$fp" "$gz")** | $(ratio "$fp" "$raw") | $img | $(ratio "$img" "$gz") |"
    done
fi

# ------------------------------------------------ bundle + compile
if wants bundle && [[ $bundle_n -gt 0 ]]; then
    emit ""
    emit "## Bundle + compile $bundle_n migrations"
    emit ""
    emit "\`gen_migrations\` without --portable (about 2 KB a file, as bundle_bench.sh). strata: \`strata-bundle generate\` then \`cc -O2 -c\` of the generated source. Floor: gzip -9 of the concatenated files, then \`cc -c\` of an assembler file that .incbin's the result: embedding the compressed text with nothing else."
    emit ""
    gen_set "$build/gen/big$bundle_n" "$bundle_n"
    big=$build/gen/big$bundle_n b=$work/bundle
    mkdir -p "$b"
    printf '\t.section .rodata\n\t.globl migrations_gz\nmigrations_gz:\n\t.incbin "%s"\n' "$b/all.gz" >"$b/incbin.s"
    spec=$work/bundle.spec
    {
        spec_line "floor: gzip -9, .incbin" - \
            "sh:cat $big/*.sql | gzip -9 >$b/all.gz && cc -c $b/incbin.s -o $b/incbin.o"
        spec_line "strata-bundle generate + cc -O2 -c" - \
            "sh:$prefix/bin/strata-bundle generate --namespace bench --out-c $b/b.c --out-h $b/b.h $big && cc -O2 -c -I$prefix/include $b/b.c -o $b/b.o"
    } >"$spec"
    measure "$spec" "$bundle_n" 1 3 0 --warmups 1
fi

# ------------------------------------------------------------- profile
# cg_parts FILE FUNCS...: the inclusive instruction count of each FUNCS (names
# joined by '+' are added up; "-" for none), from callgrind_annotate.
cg_parts() {
    local f=$1
    shift
    callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null >"$f.txt"
    awk -v specs="$*" '
        /PROGRAM TOTALS/ { gsub(/,/, "", $1); inc["TOTAL"] = $1 + 0; next }
        match($0, /:[A-Za-z_][A-Za-z0-9_]* \[/) {
            name = substr($0, RSTART + 1, RLENGTH - 3)
            n = $1
            gsub(/,/, "", n)
            if (!(name in inc)) inc[name] = n + 0   # the first line is the largest
        }
        END {
            k = split(specs, spec, " ")
            for (i = 1; i <= k; i++) {
                m = split(spec[i], fn, "+"); sum = 0; found = 0
                for (j = 1; j <= m; j++) if (fn[j] in inc) { sum += inc[fn[j]]; found = 1 }
                printf "%s%s", (i > 1 ? " " : ""), (found ? sprintf("%.3f", sum / 1e6) : "-")
            }
            printf "\n"
        }' "$f.txt"
}
if wants profile && [[ $use_valgrind -eq 1 ]] && command -v valgrind >/dev/null &&
    command -v callgrind_annotate >/dev/null; then
    n=${ns##* }
    emit ""
    emit "## The startup path, instruction by instruction (N = $n)"
    emit ""
    emit "valgrind --tool=callgrind of one no-op start of each program, inclusive instruction counts in millions (Ir; repeatable whatever the machine's load). The same databases as above."
    emit ""
    # part label, then the functions for strata, the SQLite floor, the PostgreSQL floor
    parts=(
        "total|TOTAL|TOTAL|TOTAL"
        "loading: the dynamic loader (relocations, symbol lookups)|_dl_start|_dl_start|_dl_start"
        "loading: the libraries' constructors|_dl_init|_dl_init|_dl_init"
        "main|main|main|main"
        "strata_open (options, environment, URL; no I/O)|strata_open|-|-"
        "  bundle verification and decoding (strata__bundle_open)|strata__bundle_open|-|-"
        "  revision graph (strata__graph_build, strata__graph_of_bundle)|strata__graph_build+strata__graph_of_bundle|-|-"
        "  loading libpq on a PostgreSQL URL (dlopen: strata__pq_load)|strata__pq_load|-|-"
        "reading the applied set (strata__read_report, _quick)|strata__read_report+strata__read_report_quick|-|-"
        "  connect|sq_connect+pg_connect|sqlite3_open_v2|PQconnectdb"
        "  the version table query, connect included (strata__ledger_read, _scan)|strata__ledger_read+strata__ledger_scan|sqlite3_open_v2+sqlite3_prepare_v2+sqlite3_step|PQconnectdb+PQexec"
        "  comparing with the bundle (build_report)|build_report|-|-"
        "judging (strata__judge)|strata__judge|-|-"
        "closing|strata_close|sqlite3_close|PQfinish"
        "exit|exit|exit|exit"
    )
    cols=("strata, SQLite" "strata SQLite-only build, SQLite" "floor, SQLite")
    runs=("$contender_dir/strata_n$n startup sqlite:///$dbdir/startup$n.db")
    kinds=(strata)
    if [[ -n $sqlite_only_dir ]]; then
        runs+=("$sqlite_only_dir/strata_n$n startup sqlite:///$dbdir/startup$n.db")
        kinds+=(strata)
    else
        cols=("strata, SQLite" "floor, SQLite")
    fi
    runs+=("$tools/floor_sqlite read $dbdir/startup$n.db $vt")
    kinds+=(sqlite)
    if [[ $use_pg -eq 1 ]] && wants startup-pg; then
        cols+=("strata, PostgreSQL" "floor, PostgreSQL")
        runs+=("$contender_dir/strata_n$n startup $(pgdb_url "b${n}_strata")"
            "$tools/floor_pg read $(pgdb_url "b${n}_strata") $vt")
        kinds+=(strata pg)
    fi
    if [[ ! -f $dbdir/startup$n.db ]]; then
        "$contender_dir/strata_n$n" startup "sqlite:///$dbdir/startup$n.db" >>"$log" 2>&1
    fi
    declare -A got=()
    for i in "${!runs[@]}"; do
        f=$work/profile.$i
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --callgrind-out-file="$f" ${runs[$i]} >>"$log" 2>&1 ||
            die "valgrind failed: ${runs[$i]} (see $log)"
        specs=()
        for row in "${parts[@]}"; do
            IFS='|' read -r _ fs fq fp <<<"$row"
            case ${kinds[$i]} in
            strata) specs+=("$fs") ;;
            sqlite) specs+=("$fq") ;;
            pg) specs+=("$fp") ;;
            esac
        done
        got[$i]=$(cg_parts "$f" "${specs[@]}")
    done
    line="| part |" sep="|---|"
    for c in "${cols[@]}"; do
        line+=" $c |" sep+="---:|"
    done
    emit "$line"
    emit "$sep"
    for r in "${!parts[@]}"; do
        IFS='|' read -r label _ <<<"${parts[$r]}"
        line="| ${label/#  /↳ } |"
        for i in "${!runs[@]}"; do
            read -r -a v <<<"${got[$i]}"
            line+=" ${v[$r]} |"
        done
        emit "$line"
    done
fi

emit ""
emit "Load average at the end: $(load)."
if [[ -s $work/asserts.txt ]]; then
    cat "$work/asserts.txt" >&2
fi
[[ -n $out ]] && cp "$report" "$out"
exit $status
