# shellcheck shell=bash disable=SC2154
# scale_load.sh - the "load" scenario of scale_bench.sh, sourced by it (it
# uses its variables and helpers: work, log, build, cases, load_s, load_rows,
# load_rounds, quick, pgdb_url, pg_fresh, psql_admin, q, emit, bad, stats,
# load_avg, say, die).
#
# A table of load_rows rows (the set load_base: migration 5ca1e0000001) in a
# template database; each run a copy of it, pgbench running the
# application's queries at a fixed rate for load_s seconds, and in the runs
# "with" a migration, the production start of the set load_CASE (the same
# first migration and CASE's after it) launched at load_s / 2 with the
# defaults (lock_timeout 5 s per attempt, retried after 0.2, 0.5, 1, 2 and
# 4 s). Without and with alternate round by round. The case "blocked" is
# ADD COLUMN begun while a report has read the table for 0.3 s of its 7 s:
# the migration's ACCESS EXCLUSIVE request waits, and the clients queue
# behind it until lock_timeout ends the attempt (what the default bounds).

command -v pgbench >/dev/null || die "pgbench not found (apt-get install postgresql-client)"
load_clients=8
# The binary each case starts: "blocked" is ADD COLUMN behind a long reader.
declare -A set_of=([add-column]=add_column [create-index]=create_index [alter-type]=alter_type
    [blocked]=add_column)
cat >"$work/load.sql" <<EOF
\\set id random(1, $load_rows)
SELECT id, name, qty FROM scale_items WHERE id = :id;
UPDATE scale_items SET qty = qty + 1, updated_at = now() WHERE id = :id;
INSERT INTO scale_items (name, qty) VALUES ('new item', 1);
EOF
pg_fresh scale_load_base
"$build/apps/strata_load_base" startup "$(pgdb_url scale_load_base)" >>"$log" 2>&1 ||
    die "strata could not create the load's table (see $log)"
q pg "$(pgdb_url scale_load_base)" "VACUUM ANALYZE scale_items" >>"$log"

# The rate: a quarter of what the machine sustains now, unthrottled, on a
# copy of the table (at least 20 transactions a second).
pg_fresh scale_load_run scale_load_base
capacity=$(pgbench -n -f "$work/load.sql" -c "$load_clients" -j 2 -T 5 \
    "$(pgdb_url scale_load_run)" 2>>"$log" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
[[ -n $capacity ]] || die "pgbench could not measure the capacity (see $log)"
rate=$(awk -v c="$capacity" 'BEGIN { r = int(c / 4); print r < 20 ? 20 : r }')
say "load: capacity $capacity transactions/s unthrottled, measuring at $rate/s (load $(load_avg))"

# load_run DIR CASE|none: one run on a fresh copy; DIR/lat holds the
# latencies in ms (time + schedule lag), DIR/summary "P50 P99 MAX FAILED
# MIGRATION_MS RETRIES MAX_SERVICE_MS" (the longest time without the lag:
# how long one transaction waited in the server).
load_run() {
    local dir=$1 c=$2 url pid rc t0 t1 mig_ms=- retries=- failed
    rm -rf "$dir"
    mkdir -p "$dir"
    pg_fresh scale_load_run scale_load_base
    url=$(pgdb_url scale_load_run)
    pgbench -n -f "$work/load.sql" -c "$load_clients" -j 2 -R "$rate" -T "$load_s" -l \
        --log-prefix="$dir/tx" "$url" >"$dir/pgbench.out" 2>&1 &
    pid=$!
    if [[ $c != none ]]; then
        sleep "$(awk -v t="$load_s" 'BEGIN { print t / 2 }')"
        if [[ $c == blocked ]]; then
            # A report that reads the table for 7 s (ACCESS SHARE), begun
            # just before: longer than one lock_timeout, shorter than two.
            psql -X -q -d "$url" -c "BEGIN" -c "SELECT count(*) FROM scale_items" \
                -c "SELECT pg_sleep(7)" -c "COMMIT" >>"$log" 2>&1 &
            blocker=$!
            sleep 0.3
        fi
        t0=$(date +%s%N)
        "$build/apps/strata_load_${set_of[$c]}" startup "$url" >"$dir/migration.out" 2>&1 ||
            bad "$c: the migration failed under load: $(head -c 400 "$dir/migration.out")"
        t1=$(date +%s%N)
        mig_ms=$(((t1 - t0) / 1000000))
        retries=$(grep -c 'lock timeout' "$dir/migration.out" || true)
        [[ $c != blocked ]] || wait "$blocker" || bad "$c: the blocking report failed (see $log)"
        got=$(q pg "$url" "SELECT count(*) FROM bench_strata_version WHERE state = 'applied'")
        [[ $got == 2 ]] || bad "$c: $got migrations applied, not 2"
    fi
    rc=0
    wait "$pid" || rc=$?
    # pgbench's per-transaction log: client, number, time (us, or "failed"),
    # script, epoch s, us, schedule lag (us). A client that met an error
    # pgbench does not retry is aborted: it shows in the exit status.
    cat "$dir"/tx.* 2>/dev/null | awk -v out="$dir/lat" '
        $3 !~ /^[0-9]+$/ { failed++; next }
        { printf "%.3f\n", ($3 + $7) / 1000 > out; n++; if ($3 > svc) svc = $3 }
        END { printf "%d %d %.2f\n", failed, n, svc / 1000 }' >"$dir/counts"
    read -r failed ok svc <"$dir/counts"
    if [[ $rc -ne 0 ]] || grep -q 'aborted' "$dir/pgbench.out"; then
        failed=$((failed + 1))
        bad "$c: pgbench exit $rc: $(grep -m 2 -i 'error\|abort' "$dir/pgbench.out" | tr '\n' ' ')"
    fi
    [[ $ok -gt 0 ]] || bad "$c: pgbench logged no transaction (see $dir/pgbench.out)"
    sort -g "$dir/lat" | awk -v f="$failed" -v m="$mig_ms" -v r="$retries" -v s="$svc" '{ v[NR] = $1 } END {
        i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
        printf "%.2f %.2f %.2f %d %s %s %s\n", v[i50], v[i99], v[NR], f, m, r, s }' >"$dir/summary"
}

emit ""
emit "## A migration under load, PostgreSQL"
emit ""
emit "pgbench, $load_clients clients, at $rate transactions/s (a quarter of the $capacity/s measured unthrottled just before), for $load_s s; each transaction the application's three queries (SELECT by primary key, UPDATE of one row, INSERT) on a table of $load_rows rows. With: the production start of a binary with one more migration, launched after $((load_s / 2)) s, with strata's defaults (lock_timeout 5 s, retried after 0.2, 0.5, 1, 2 and 4 s). Latency is pgbench's per-transaction time plus its schedule lag (the wait a client sees at a fixed rate: a transaction that waits delays those scheduled after it), in ms; "longest in the server" is the largest time alone (what one transaction waited for a lock); median and range over $load_rounds round(s), without and with alternating. Failed: transactions that failed or clients aborted, all runs. Load average at the start: $(load_avg)."
emit ""
emit "| migration | p50 without / with | p99 without / with | max without / with | longest in the server without / with | p99 with / without, paired | failed | migration wall ms; lock retries per round | goal |"
emit "|---|---|---|---|---|---|---|---|---|"
for c in $cases; do
    : >"$work/load.$c.ratio"
    for col in p50b p50m p99b p99m maxb maxm svcb svcm mig; do : >"$work/load.$c.$col"; done
    fails=0 retries_all=""
    for r in $(seq 1 "$load_rounds"); do
        if [[ $((r % 2)) -eq 1 ]]; then order="none $c"; else order="$c none"; fi
        for which in $order; do
            say "  load, $c, round $r: $([[ $which == none ]] && echo without || echo with) the migration"
            load_run "$work/run/load.$c.$which" "$which"
        done
        # shellcheck disable=SC2034 # p50b ... svcm are read through ${!col}
        read -r p50b p99b maxb fb _ _ svcb <"$work/run/load.$c.none/summary"
        # shellcheck disable=SC2034
        read -r p50m p99m maxm fm migms retr svcm <"$work/run/load.$c.$c/summary"
        for col in p50b p50m p99b p99m maxb maxm svcb svcm; do echo "${!col}" >>"$work/load.$c.$col"; done
        echo "$migms" >>"$work/load.$c.mig"
        awk -v a="$p99m" -v b="$p99b" 'BEGIN { printf "%.3f\n", a / b }' >>"$work/load.$c.ratio"
        fails=$((fails + fb + fm))
        retries_all+="${retries_all:+, }$retr"
        say "  load, $c, round $r: p99 ${p99b} -> ${p99m} ms, max ${maxb} -> ${maxm} ms (in the server ${svcb} -> ${svcm}), migration ${migms} ms, $retr retries, failed $((fb + fm))"
    done
    [[ $fails -eq 0 ]] || bad "$c: $fails failed client transactions"
    emit "| $c | $(stats "$work/load.$c.p50b") / $(stats "$work/load.$c.p50m") | $(stats "$work/load.$c.p99b") / $(stats "$work/load.$c.p99m") | $(stats "$work/load.$c.maxb") / $(stats "$work/load.$c.maxm") | $(stats "$work/load.$c.svcb") / $(stats "$work/load.$c.svcm") | **$(stats "$work/load.$c.ratio")** | $fails | $(stats "$work/load.$c.mig"); $retries_all | <= 2x, 0 failed |"
done
