# Sourced by runtime.sh and runtime_pg.sh: the CLI checks both run on the
# database their cycle left up to date, and the verdict. Needs $app (the
# driver), $cli_ns (its namespace) and $t_start; sets $out and, on a failed
# check, fail=1.

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

head_revision() { # head_revision DIR: the revision of the newest migration file
    sed -n 's/^-- strata: revision=\(v[0-9]*\).*/\1/p' \
        "$(find "$1" -maxdepth 1 -name '*.sql' | LC_ALL=C sort | tail -n 1)"
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
