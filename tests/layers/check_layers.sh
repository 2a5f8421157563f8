#!/usr/bin/env bash
# check_layers.sh CC PROBES_DIR INCLUDES_DIR
# Compiles each probes/<layer>_*.c with the include path of <layer> (from
# INCLUDES_DIR/include-<layer>.txt, written by CMake) and compares the
# outcome with the probe's first line: "/* expect: builds */" or
# "/* expect: fails <header> */" (the compiler must say it cannot find
# <header>: a failure for any other reason does not count).
set -u
cc=$1 probes=$2 incdir=$3
fail=0 n=0
for probe in "$probes"/*.c; do
    name=$(basename "$probe" .c)
    layer=${name%%_*}
    list=$incdir/include-$layer.txt
    [[ -f $list ]] || { echo "SKIP $name: no include path for $layer"; continue; }
    flags=()
    while IFS= read -r d; do [[ -n $d ]] && flags+=("-I$d"); done <"$list"
    expect=$(head -n 1 "$probe")
    out=$("$cc" -std=c11 -fsyntax-only "${flags[@]}" "$probe" 2>&1)
    rc=$?
    n=$((n + 1))
    case $expect in
    *"expect: builds"*)
        if [[ $rc -eq 0 ]]; then echo "ok   $name builds"; else
            echo "FAIL $name should build:"; echo "$out"; fail=1
        fi ;;
    *"expect: fails "*)
        header=${expect#*expect: fails }
        header=${header%% *}
        # gcc: "x.h: No such file or directory"; clang: "'x.h' file not found".
        if [[ $rc -ne 0 ]] && grep -qE "$header: No such file|'$header' file not found" <<<"$out"; then
            echo "ok   $name cannot include $header"
        else
            echo "FAIL $name should not find $header (exit $rc):"; echo "$out"; fail=1
        fi ;;
    *) echo "FAIL $name: first line says neither 'expect: builds' nor 'expect: fails'"; fail=1 ;;
    esac
done
[[ $n -gt 0 ]] || { echo "no probes ran"; exit 1; }
exit $fail
