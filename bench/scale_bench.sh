#!/usr/bin/env bash
# scale_bench.sh - strata at scale, side by side in one run (bench/README.md,
# "Scale"; docs/performance.md has a run).
#
# usage: bench/scale_bench.sh [--quick] [--k K] [--n N] [--rounds R]
#            [--only "herd-sqlite herd-pg load"] [--load-seconds T]
#            [--load-rows ROWS] [--load-rounds R] [--cases "CASE..."]
#            [--out FILE]
#
# Scenarios (--only picks some; default all):
#   herd-sqlite  K replicas (default 32) started at once against one SQLite
#                file, against ONE replica on the same state, interleaved
#                round by round (1 then K, K then 1 the next round): states
#                "up to date" and "N pending" (default 100; gen_migrations
#                --portable --size 270, a fresh file for every run); and the
#                floor, K against 1 of a C program that opens the file and
#                reads the version table (floor_sqlite read): what starting
#                K processes on this machine costs by itself; and with N
#                pending, the floor of the herd: one strata start applying
#                while K - 1 of those reads start with it.
#   herd-pg      the same on one PostgreSQL database (a server this script
#                starts: tests/pg/pg_fixture.sh), the floor floor_pg read.
#   load         a table of ROWS rows (default 100000) under a pgbench load
#                of the application's queries (a SELECT by primary key, an
#                UPDATE of one row, an INSERT) at a fixed rate (a quarter of
#                the rate the machine sustains, measured first), T seconds
#                (default 20) without a migration, then T seconds with one
#                started in the middle by the production startup path, with
#                the lock_timeout and retry defaults: ADD COLUMN with a
#                default (instant), CREATE INDEX (SHARE lock for the build),
#                ALTER COLUMN TYPE (a rewrite under ACCESS EXCLUSIVE), and
#                ADD COLUMN behind a report holding the table for 7 s
#                ("blocked": what lock_timeout bounds). Per
#                case: client p50/p99/max latency (pgbench -l: time plus
#                schedule lag, the wait a client sees at a fixed rate),
#                failed transactions, and the paired ratio of the p99s.
#
# A replica is perf_contender's `startup URL` (bench/perf/, built against the
# installed strata as an application builds): strata_startup in production,
# which migrates under the lock and returns; "ready" is its exit 0. The
# timing is scale_herd's: from just before the first fork until the last of
# the K processes has exited. Every run is checked: every process exited 0
# and printed nothing (the contender prints warnings and errors only), the
# version table holds the N revisions once each, all applied, and the log
# table names each revision in exactly one successful operation; a failed
# check fails the run (exit 1) and is reported.
#
# --quick: the CI check (ctest bench.scale_quick): K = 16, 3 rounds, T = 6 s
# of load on 20,000 rows with the ADD COLUMN case only; asserts correctness,
# 0 failed client transactions and coarse paired ratios, never a time:
# strata's herd against the floor's herd of the same round, below 4x up to
# date (K bare reads) and with N pending (one strata start applying among
# K - 1 bare reads).
#
# Builds (cmake; -j2): strata Release, installed, in $STRATA_SCALE_BUILD
# (default build/scale), or with STRATA_PERF_TOOLS=BUILD_DIR that build's
# strata and tools (what the ctest does); then bench/perf against it with
# the generated sets. STRATA_SCALE_KEEP=1 keeps the work directory.
set -euo pipefail
export LC_ALL=C

usage() {
    sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 k=32 n=100 rounds=5 only="" load_s=20 load_rows=100000 load_rounds=3 out="" cases_arg=""
cmdline="bench/scale_bench.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) quick=1 ;;
    --k) k=${2:?--k needs a number} && shift ;;
    --n) n=${2:?--n needs a number} && shift ;;
    --rounds) rounds=${2:?} && shift ;;
    --only) only=${2:?} && shift ;;
    --load-seconds) load_s=${2:?} && shift ;;
    --load-rows) load_rows=${2:?} && shift ;;
    --load-rounds) load_rounds=${2:?} && shift ;;
    --cases) cases_arg=${2:?} && shift ;;
    --out) out=${2:?} && shift ;;
    -h | --help) usage ;;
    *)
        echo "scale_bench: unknown argument '$1'" >&2
        usage
        ;;
    esac
    shift
done
cases="add-column create-index alter-type blocked"
if [[ $quick -eq 1 ]]; then
    k=16 rounds=3 load_s=6 load_rows=20000 load_rounds=1 cases=add-column
fi
cases=${cases_arg:-$cases}
for c in $cases; do
    case $c in
    add-column | create-index | alter-type | blocked) ;;
    *)
        echo "scale_bench: unknown case '$c' (add-column create-index alter-type blocked)" >&2
        exit 2
        ;;
    esac
done
if [[ $load_s -lt 16 && " $cases " == *" blocked "* ]]; then
    cases=$(echo " $cases " | sed 's/ blocked / /') # the report blocks 7 s from the middle
fi
only=${only:-"herd-sqlite herd-pg load"}
wants() { [[ " $only " == *" $1 "* ]]; }
for w in $only; do
    case $w in
    herd-sqlite | herd-pg | load) ;;
    *)
        echo "scale_bench: unknown scenario '$w' (herd-sqlite herd-pg load)" >&2
        exit 2
        ;;
    esac
done
for v in "$k" "$n" "$rounds" "$load_s" "$load_rows" "$load_rounds"; do
    [[ $v =~ ^[0-9]+$ && $v -ge 1 ]] || {
        echo "scale_bench: '$v' is not a positive number" >&2
        usage
    }
done
# A waiting replica holds two connections (its own and the lock's): the
# server pg_fixture.sh starts allows 100.
if wants herd-pg && [[ $k -gt 45 ]]; then
    echo "scale_bench: --k $k is more than the PostgreSQL herd's 45 (two connections a replica, 100 allowed)" >&2
    exit 2
fi
[[ $load_s -ge 4 ]] || {
    echo "scale_bench: --load-seconds must be at least 4" >&2
    exit 2
}

say() { echo "scale_bench: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

build=${STRATA_SCALE_BUILD:-$src/build/scale}
tools_build=${STRATA_PERF_TOOLS:-}
mkdir -p "$build"
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-scale.XXXXXX")
log=$work/scale.log
: >"$log"
pg_env=""
status=0
cleanup() {
    local st=$?
    if [[ -n $pg_env && -f $pg_env ]]; then
        bash "$src/tests/pg/pg_fixture.sh" stop "$pg_env" >/dev/null 2>&1 || true
    fi
    if [[ ${STRATA_SCALE_KEEP:-} == 1 || $st -ne 0 || $status -ne 0 ]]; then
        say "work directory kept: $work (log: $log)"
    else
        rm -rf "$work"
    fi
    return 0
}
trap cleanup EXIT
cmake_gen=()
command -v ninja >/dev/null && cmake_gen=(-G Ninja)

# ---------------------------------------------------------------- builds
# As perf_bench.sh builds: a Release strata installed in a prefix, or the
# given build's; then the applications in bench/perf/ against it.
prefix=$build/prefix
if [[ -n $tools_build ]]; then
    tools=$tools_build/bench
    say "strata and tools from $tools_build"
else
    say "building strata in $build/strata"
    if [[ ! -f $build/strata/CMakeCache.txt ]]; then
        cmake -S "$src" -B "$build/strata" "${cmake_gen[@]}" -DCMAKE_BUILD_TYPE=Release \
            -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=OFF -DSTRATA_BUILD_BENCH=ON \
            >>"$log" 2>&1 || die "configure failed (see $log)"
    fi
    cmake --build "$build/strata" -j2 --target strata strata-bundle gen_migrations scale_herd \
        floor_sqlite floor_pg >>"$log" 2>&1 || die "build failed (see $log)"
    tools_build=$build/strata
    tools=$build/strata/bench
fi
cmake --install "$tools_build" --prefix "$prefix" >>"$log" 2>&1 || die "install failed (see $log)"
for t in gen_migrations scale_herd floor_sqlite; do
    [[ -x $tools/$t ]] || die "$tools/$t not built"
done
herd=$tools/scale_herd

# The migrations, in the build directory, replaced only when they change (so
# the applications are rebuilt only then): the herd's N, and the load's base
# (the table and its rows) with each case's migration after it.
gen_dir=$build/gen
mkdir -p "$gen_dir"
replace_if_changed() { # replace_if_changed NEW DIR
    if ! diff -r -q "$1" "$2" >/dev/null 2>&1; then
        rm -rf "$2"
        mv "$1" "$2"
    else
        rm -rf "$1"
    fi
}
rm -rf "$work/gen.tmp"
"$tools/gen_migrations" --portable --size 270 "$work/gen.tmp" "$n" 2>>"$log" ||
    die "gen_migrations failed (see $log)"
replace_if_changed "$work/gen.tmp" "$gen_dir/herd$n"

# load_set NAME [CASE]: the base migration, and CASE's after it.
load_base() {
    cat <<EOF
-- strata: revision=5ca1e0000001
-- strata: message="the items the load works on"

-- strata: up dialect=postgresql
CREATE TABLE scale_items (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    qty integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO scale_items (id, name, qty)
SELECT g, 'item ' || g, g % 100 FROM generate_series(1, $load_rows) g;
SELECT setval(pg_get_serial_sequence('scale_items', 'id'), $load_rows);

-- strata: down dialect=postgresql
DROP TABLE scale_items;
EOF
}
load_case() {
    local up down
    case $1 in
    add-column)
        up="ALTER TABLE scale_items ADD COLUMN note text NOT NULL DEFAULT 'none';"
        down="ALTER TABLE scale_items DROP COLUMN note;"
        ;;
    create-index)
        up="CREATE INDEX scale_items_name ON scale_items (name);"
        down="DROP INDEX scale_items_name;"
        ;;
    alter-type)
        up="ALTER TABLE scale_items ALTER COLUMN qty TYPE bigint;"
        down="ALTER TABLE scale_items ALTER COLUMN qty TYPE integer;"
        ;;
    esac
    printf -- '-- strata: revision=5ca1e0000002 revises=5ca1e0000001\n'
    printf -- '-- strata: message="%s under load"\n\n-- strata: up dialect=postgresql\n%s\n\n-- strata: down dialect=postgresql\n%s\n' \
        "$1" "$up" "$down"
}
sets="herd=$gen_dir/herd$n"
if wants load; then
    for c in base add-column create-index alter-type; do
        rm -rf "$work/gen.tmp"
        mkdir -p "$work/gen.tmp"
        load_base >"$work/gen.tmp/5ca1e0000001_items.sql"
        [[ $c == base ]] || load_case "$c" >"$work/gen.tmp/5ca1e0000002_${c//-/_}.sql"
        replace_if_changed "$work/gen.tmp" "$gen_dir/load_${c//-/_}"
        sets+=";load_${c//-/_}=$gen_dir/load_${c//-/_}"
    done
fi
say "building the applications in $build/apps"
cmake -S "$src/bench/perf" -B "$build/apps" "${cmake_gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DPERF_SETS="$sets" -DPERF_FOOTPRINT= \
    >>"$log" 2>&1 || die "configure of bench/perf failed (see $log)"
cmake --build "$build/apps" -j2 >>"$log" 2>&1 || die "build of bench/perf failed (see $log)"
app=$build/apps/strata_herd

# -------------------------------------------------------------- PostgreSQL
pg_url=""
if wants herd-pg || wants load; then
    [[ -x $tools/floor_pg ]] || die "no $tools/floor_pg: a build without PostgreSQL (use --only herd-sqlite)"
    command -v psql >/dev/null || die "psql not found (apt-get install postgresql)"
    pg_env=$work/pg.env
    bash "$src/tests/pg/pg_fixture.sh" start "$pg_env" >>"$log" 2>&1 ||
        die "the PostgreSQL server did not start (see $log)"
    # shellcheck disable=SC1090
    . "$pg_env"
    pg_url=$STRATA_PG_URL
fi
pgdb_url() { echo "postgresql://postgres@127.0.0.1:$STRATA_PG_PORT/$1"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$pg_url" "$@" >>"$log" 2>&1; }
pg_fresh() { # pg_fresh DB [TEMPLATE]
    psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
        -c "CREATE DATABASE \"$1\"${2:+ TEMPLATE \"$2\"}" || die "CREATE DATABASE $1 failed (see $log)"
}

# ---------------------------------------------------------- reporting
report=$work/report.md
emit() { printf '%s\n' "$*" | tee -a "$report"; }
load_avg() { cut -d ' ' -f 1-3 /proc/loadavg; }
# stats FILE: "median (min-max)" of the numbers in FILE, one a line.
stats() {
    sort -g "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bad() {
    emit "- **FAILED**: $*"
    status=1
}
# assert_ratio LABEL FILE BOUND: the quick mode's coarse guard on a paired median.
assert_ratio() {
    local m
    m=$(median "$2")
    if awk -v m="$m" -v b="$3" 'BEGIN { exit !(m < b) }'; then
        emit "- guard: $1, paired median ${m}x < ${3}x: ok"
    else
        bad "guard: $1, paired median ${m}x, bound ${3}x"
    fi
}

emit "# strata at scale, $(date -u '+%Y-%m-%d %H:%M') UTC"
emit ""
emit "- command: \`$cmdline\`$([[ -n ${STRATA_PERF_TOOLS:-} ]] && echo " (strata and tools of $STRATA_PERF_TOOLS)")"
emit "- machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GB, $(uname -sr); load average at the start: $(load_avg)"
emit "- strata $(git -C "$src" describe --always --dirty 2>/dev/null || echo '?'), $(cc --version | head -n 1)$([[ -n $pg_url ]] && echo ", PostgreSQL server $("$STRATA_PG_BINDIR_USED/postgres" --version | awk '{print $3}') (fsync off), $(pgbench --version 2>/dev/null | awk '{print $1, $3}')")"
emit "- K = $k replicas, N = $n pending migrations ($(cat "$gen_dir/herd$n"/*.sql | wc -c) bytes, \`gen_migrations --portable --size 270\`), $rounds rounds"

# ---------------------------------------------------------------- herd
vt=bench_strata_version
lt=bench_strata_log
revisions=$(sed -n 's/^-- strata: revision=\([^ ]*\).*/\1/p' "$gen_dir/herd$n"/*.sql | sort)
[[ $(echo "$revisions" | wc -l) -eq $n ]] || die "expected $n revisions in $gen_dir/herd$n"

# q KIND TARGET SQL: rows of a query (a|b), on a SQLite file or a PostgreSQL URL.
q() {
    if [[ $1 == sqlite ]]; then
        sqlite3 -batch -bail -cmd '.timeout 30000' "$2" "$3" 2>&1
    else
        psql -X -q -tA -v ON_ERROR_STOP=1 -d "$2" -c "$3" 2>&1
    fi
}
# herd_check LABEL KIND TARGET DIR COUNT LOGROWS: after a run of COUNT
# processes (scale_herd's output in DIR/result, theirs in DIR/out.*): all
# exited 0 and printed nothing; the version table holds the N revisions once
# each, applied; the log's successful rows name each revision once, and the
# log has LOGROWS rows in all ("" to skip: an applying run).
herd_check() {
    local label=$1 kind=$2 target=$3 dir=$4 count=$5 rows f said got
    read -r _ f <"$dir/result"
    [[ $f -eq 0 ]] || bad "$label: $f of $count processes did not exit 0"
    said=$(cat "$dir"/out.* 2>/dev/null | head -n 5)
    [[ -z $said ]] || bad "$label: a replica printed: $said"
    got=$(q "$kind" "$target" "SELECT revision || ' ' || state FROM $vt ORDER BY revision")
    [[ $got == "$(echo "$revisions" | sed 's/$/ applied/')" ]] ||
        bad "$label: the version table is not the $n revisions once each, applied: $(echo "$got" | head -n 3) ..."
    got=$(q "$kind" "$target" "SELECT revisions FROM $lt WHERE outcome = 'ok' AND revisions <> ''" |
        tr ', ' '\n\n' | sed '/^$/d' | sort)
    [[ $got == "$revisions" ]] ||
        bad "$label: the log does not name each revision in exactly one successful operation ($(echo "$got" | wc -l) names, $(echo "$got" | sort -u | wc -l) distinct)"
    rows=$(q "$kind" "$target" "SELECT count(*) FROM $lt WHERE outcome <> 'ok'")
    [[ $rows == 0 ]] || bad "$label: $rows log rows of a failed operation"
}

# herd_run KIND DB COUNT OUTDIR CMD...: one run; prints its wall ms.
herd_run() {
    local count=$3 dir=$4 ms f
    rm -rf "$dir"
    mkdir -p "$dir"
    shift 4
    "$herd" "$dir" "$count" "$@" >"$dir/result" 2>>"$log" || die "scale_herd failed (see $log)"
    read -r ms f <"$dir/result"
    echo "$ms"
}

# fresh_pending KIND: a new, empty database; sets target (file or URL) and url.
fresh_pending() {
    if [[ $1 == sqlite ]]; then
        target=$work/pending.db url="sqlite:///$target"
        rm -f "$target" "$target"-*
    else
        pg_fresh scale_pending
        target=$(pgdb_url scale_pending) url=$target
    fi
}

# herd_scenario KIND: the rounds on one database kind, then its table. Per
# round, 1 and K processes (order alternating) of: the floor (bare reads of
# the up-to-date database), strata's start up to date, strata's start with N
# pending; and K of the pending state's floor, one strata start applying the
# N migrations while K - 1 bare reads of the up-to-date database start with
# it (what the applier has to share the machine with, without any waiting).
herd_scenario() {
    local kind=$1 label floor_bin db_up url_up t_up target url one many r order c count dir
    local logrows fl
    if [[ $kind == sqlite ]]; then
        label=SQLite floor_bin=$tools/floor_sqlite
        db_up=$work/uptodate.db url_up="sqlite:///$db_up" t_up=$db_up
    else
        label=PostgreSQL floor_bin=$tools/floor_pg
        db_up=scale_uptodate url_up=$(pgdb_url scale_uptodate) t_up=$url_up
        pg_fresh scale_uptodate
    fi
    fl=("$floor_bin" read "$t_up" "$vt")
    say "herd on $label: K = $k, N = $n, $rounds rounds (load $(load_avg))"
    "$app" startup "$url_up" >>"$log" 2>&1 || die "strata could not migrate the up-to-date database (see $log)"
    logrows=$(q "$kind" "$t_up" "SELECT count(*) FROM $lt")
    for c in floor uptodate pending mixed; do
        for f in one many ratio vs; do : >"$work/$kind.$c.$f"; done
    done
    for r in $(seq 1 "$rounds"); do
        # 1 then K in odd rounds, K then 1 in even ones.
        if [[ $((r % 2)) -eq 1 ]]; then order="1 $k"; else order="$k 1"; fi
        for c in floor uptodate pending mixed; do
            for count in $order; do
                [[ $c == mixed && $count -eq 1 ]] && continue # one is the pending row's
                dir=$work/run/$kind.$c.$count
                case $c in
                floor)
                    ms=$(herd_run "$kind" "$db_up" "$count" "$dir" "${fl[@]}")
                    read -r _ f <"$dir/result"
                    [[ $f -eq 0 ]] || bad "floor on $label: $f of $count processes failed: $(head -c 300 "$dir/out.1")"
                    ;;
                uptodate)
                    ms=$(herd_run "$kind" "$db_up" "$count" "$dir" "$app" startup "$url_up")
                    herd_check "$label, up to date, $count replica(s), round $r" "$kind" "$t_up" "$dir" "$count"
                    got=$(q "$kind" "$t_up" "SELECT count(*) FROM $lt")
                    [[ $got == "$logrows" ]] || bad "$label, up to date: a no-op start wrote the log ($logrows rows, now $got)"
                    ;;
                pending)
                    fresh_pending "$kind"
                    ms=$(herd_run "$kind" "$target" "$count" "$dir" "$app" startup "$url")
                    herd_check "$label, $n pending, $count replica(s), round $r" "$kind" "$target" "$dir" "$count"
                    ;;
                mixed)
                    fresh_pending "$kind"
                    ms=$(herd_run "$kind" "$target" "$count" "$dir" "$app" startup "$url" :: "${fl[@]}")
                    herd_check "$label, $n pending, one replica among $((count - 1)) floors, round $r" \
                        "$kind" "$target" "$dir" "$count"
                    ;;
                esac
                if [[ $count -eq 1 ]]; then one=$ms; else many=$ms; fi
            done
            [[ $c == mixed ]] && one=$(tail -n 1 "$work/$kind.pending.one")
            echo "$one" >>"$work/$kind.$c.one"
            echo "$many" >>"$work/$kind.$c.many"
            awk -v a="$many" -v b="$one" 'BEGIN { printf "%.3f\n", a / b }' >>"$work/$kind.$c.ratio"
        done
        # strata's herd against the floor's herd of the same round.
        paste "$work/$kind.uptodate.many" "$work/$kind.floor.many" | tail -n 1 |
            awk '{ printf "%.3f\n", $1 / $2 }' >>"$work/$kind.uptodate.vs"
        paste "$work/$kind.pending.many" "$work/$kind.mixed.many" | tail -n 1 |
            awk '{ printf "%.3f\n", $1 / $2 }' >>"$work/$kind.pending.vs"
        say "  round $r: K / one: floor $(tail -n 1 "$work/$kind.floor.ratio")x, up to date $(tail -n 1 "$work/$kind.uptodate.ratio")x," \
            "pending $(tail -n 1 "$work/$kind.pending.ratio")x (its floor $(tail -n 1 "$work/$kind.mixed.ratio")x) (load $(load_avg))"
    done
    emit ""
    emit "## $k replicas at once against one, $label"
    emit ""
    emit "Wall time in ms from the first fork until every process has exited 0 (scale_herd); medians and ranges over $rounds rounds, 1 and $k interleaved; ratios paired within each round. Load average at the end: $(load_avg)."
    emit ""
    emit "| state | what runs | one | $k | $k / one | goal | $k / the floor's $k |"
    emit "|---|---|---|---|---|---|---|"
    emit "| up to date | floor: $(basename "$floor_bin") read (open, read the version table) | $(stats "$work/$kind.floor.one") | $(stats "$work/$kind.floor.many") | **$(stats "$work/$kind.floor.ratio")** | | |"
    emit "| up to date | strata_startup, production | $(stats "$work/$kind.uptodate.one") | $(stats "$work/$kind.uptodate.many") | **$(stats "$work/$kind.uptodate.ratio")** | <= 2x | **$(stats "$work/$kind.uptodate.vs")** |"
    emit "| $n pending | floor: one strata_startup applying, $((k - 1)) floors starting with it | (the row below) | $(stats "$work/$kind.mixed.many") | **$(stats "$work/$kind.mixed.ratio")** | | |"
    emit "| $n pending | strata_startup, production: one applies, the others wait for the lock | $(stats "$work/$kind.pending.one") | $(stats "$work/$kind.pending.many") | **$(stats "$work/$kind.pending.ratio")** | <= 2x | **$(stats "$work/$kind.pending.vs")** |"
    if [[ $quick -eq 1 ]]; then
        # Coarse guards, paired within each round: strata's herd against the
        # floor's herd, 4x. The Debug build's start costs more CPU than the
        # floor's; with N pending, SQLite's herd measured 0.8-2.7x its floor
        # at load 14-18 (the waiters' looks between polls meet the applier's
        # commits), and before that look existed, waiters took the lock one
        # after the other: 4.9x at K = 32 in a Release build, more in Debug.
        assert_ratio "$label, up to date: $k strata / $k floors" "$work/$kind.uptodate.vs" 4
        assert_ratio "$label, $n pending: $k strata / (one strata + $((k - 1)) floors)" "$work/$kind.pending.vs" 4
    fi
}

wants herd-sqlite && herd_scenario sqlite
wants herd-pg && herd_scenario pg

# ---------------------------------------------------------------- load
if wants load; then
    # shellcheck source=bench/scale_load.sh
    . "$src/bench/scale_load.sh"
fi

emit ""
emit "Finished $(date -u '+%H:%M') UTC, load average $(load_avg)$([[ $status -ne 0 ]] && echo "; **checks failed**, see above")."
[[ -z $out ]] || cp "$report" "$out"
exit "$status"
