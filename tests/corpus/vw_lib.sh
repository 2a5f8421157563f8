# Sourced by runtime.sh and runtime_pg.sh: what both learn from the files,
# the CLI checks both run on the database their cycle left up to date
# (vw_cli_checks, which reads $dir, $irrev, $irrev_file), and the verdict. cli needs $app (the driver) and $cli_ns (its namespace),
# finish $t_start; a failed check sets fail=1.

count_migrations() { # count_migrations DIR: sets nmig, nrev (reversible), nnotx
    # (transaction=none), irrev and irrev_file (the newest irreversible one)
    local f
    nmig=0 nrev=0 nnotx=0 irrev="" irrev_file=""
    while IFS= read -r f; do
        nmig=$((nmig + 1))
        grep -q '^-- strata: transaction=none' "$f" && nnotx=$((nnotx + 1))
        if grep -Eq '^--[[:space:]]*strata:[[:space:]]*down([[:space:]]|$)' "$f"; then
            nrev=$((nrev + 1))
        else
            irrev=$(sed -n 's/^-- strata: revision=\(v[0-9]*\).*/\1/p' "$f" | head -n 1)
            irrev_file=$(basename "$f")
        fi
    done < <(find "$1" -maxdepth 1 -name '*.sql' | LC_ALL=C sort)
    if [ "$nmig" -eq 0 ] || [ -z "$irrev" ]; then
        echo "$(basename "$0"): no migrations, or no irreversible one, in $1" >&2
        exit 1
    fi
}

cli() { # cli WANT_EXIT ARGS...: runs `$app $cli_ns migrate ARGS`, output in $out
    local want=$1 rc
    shift
    out=$("$app" "$cli_ns" migrate "$@" 2>&1)
    rc=$?
    printf '$ %s migrate %s\n%s\n[exit %d]\n' "$cli_ns" "$*" "$out" "$rc"
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: migrate $*: exit $rc, want $want" >&2
        fail=1
    fi
}

want_out() { # want_out TEXT: the last cli output contains TEXT
    if [[ "$out" != *"$1"* ]]; then
        echo "FAIL: the output does not say: $1" >&2
        fail=1
    fi
}

vw_cli_checks() { # vw_cli_checks DIALECT: on the up-to-date database of $dir,
    # status, check and current name the head; downgrade base refuses at the
    # newest irreversible migration ($irrev) and changes nothing
    local head_rev
    head_rev=$(sed -n 's/^-- strata: revision=\(v[0-9]*\).*/\1/p' \
        "$(find "$dir" -maxdepth 1 -name '*.sql' | LC_ALL=C sort | tail -n 1)")
    cli 0 status
    want_out "database is up to date"
    cli 0 check
    cli 0 current
    want_out "$head_rev"
    cli 1 downgrade base
    want_out "error: migration $irrev ($irrev_file) has no down section for $1: it cannot be reversed, so nothing was downgraded. --force forgets it instead (its row goes, its changes stay)"
    cli 0 status
    want_out "database is up to date"
}

finish() { # finish WHAT: how long since $t_start, then the verdict and exit status
    local t_end
    t_end=$(date +%s%N)
    echo "vaultwarden: $1 took $(((t_end - t_start) / 1000000)) ms"
    if [ "$fail" -ne 0 ]; then
        echo "vaultwarden: FAILED" >&2
        exit 1
    fi
    echo "vaultwarden: ok"
}
