#!/usr/bin/env bash
# --help on every command exits 0 and prints its usage on stdout.
. "$(dirname "$0")/lib.sh"

commands="generate verify lint check lock create merge heads history"
for c in $commands; do
    for h in --help -h; do
        run "$c" "$h"
        expect_code 0 "$c $h"
        expect_match "$c $h prints its usage" "^usage: strata-bundle $c( |\$)" "$(printf '%s\n' "$OUT" | head -1)"
        expect_eq "$c $h: nothing on stderr" "" "$ERR"
    done
    # --help wins over missing or bad arguments.
    run "$c" nosuchdir --help
    expect_code 0 "$c DIR --help"
    # The top-level usage lists every command.
    run --help
    expect_match "--help lists $c" "^  $c( |\$)" "$OUT"
done
for h in --help -h help; do
    run $h
    expect_code 0 "strata-bundle $h"
    expect_eq "strata-bundle $h: first line" "usage: strata-bundle <command> [options] DIR [args]" \
        "$(printf '%s\n' "$OUT" | head -1)"
    expect_eq "strata-bundle $h: nothing on stderr" "" "$ERR"
done
run --version
expect_code 0 "--version"
expect_match "--version" '^strata-bundle [0-9]+\.[0-9]+\.[0-9]+ \(bundle format [0-9]+, checksums xxh3-128/[0-9]+\)$' "$OUT"

# Without a command: usage on stderr, exit 2.
run
expect_code 2 "no command"
expect_eq "no command: nothing on stdout" "" "$OUT"
expect_eq "no command: usage on stderr" "usage: strata-bundle <command> [options] DIR [args]" \
    "$(printf '%s\n' "$ERR" | head -1)"

finish
