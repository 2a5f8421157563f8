#!/usr/bin/env bash
# -j / STRATA_JOBS: the files are read and parsed, and the blocks deflated,
# on several threads; the bundle's bytes, the diagnostics (in file order),
# the exit status and every file name are the same whatever the number.
. "$(dirname "$0")/lib.sh"

# 400 migrations of about 1.2 KB, different enough that the scripts make
# two deflate blocks (256 KB of text each) and a dictionary.
n=400
prev=""
for ((i = 1; i <= n; i++)); do
    rev=$(printf 'a%011x' "$i")
    sql="CREATE TABLE t$i (id INTEGER PRIMARY KEY, name_$((i * 7 % 13)) TEXT NOT NULL DEFAULT 'n$i',"
    sql+=" amount_$((i % 17)) REAL, created_at TEXT);"
    for ((k = 0; k < 12; k++)); do
        sql+=$'\n'"INSERT INTO t$i (id, name_$((i * 7 % 13)), amount_$((i % 17))) VALUES ($((i * 31 + k)), 'row $((i * k)) of $i', $((i * 1009 % 9973)).$k);"
    done
    migration "m/$(printf '2024%04d' "$i")_$rev.sql" "$rev" "$prev" "step $i" "$sql"
    prev=$rev
done

gen() { # gen OUT DIR [ARGS...]: generate DIR into OUT.c and OUT.h
    local out=$1 dir=$2
    shift 2
    run generate --namespace jobs "$@" --out-c "$out.c" --out-h "$out.h" "$dir"
}

gen one m -j 1
expect_code 0 "generate -j 1"
expect_eq "generate -j 1: nothing on stderr" "" "$ERR"
checks=$((checks + 1))
[ "$(wc -c <one.c)" -gt 40000 ] || fail "the bundle of $n migrations is suspiciously small"
for args in "-j 2" "-j 4" "--jobs 3" "-j 64" "--jobs=7"; do
    # shellcheck disable=SC2086 # the words are the options
    gen many m $args
    expect_code 0 "generate $args"
    checks=$((checks + 1))
    cmp -s one.c many.c || fail "generate $args: the source differs from -j 1's"
    checks=$((checks + 1))
    cmp -s one.h many.h || fail "generate $args: the header differs from -j 1's"
    rm -f many.c many.h
done
# The environment, and the option over it; scheduling varies between runs.
for ((r = 0; r < 4; r++)); do
    STRATA_JOBS=4 gen env m
    expect_code 0 "STRATA_JOBS=4 generate (run $r)"
    checks=$((checks + 1))
    cmp -s one.c env.c || fail "STRATA_JOBS=4 generate (run $r): the source differs from -j 1's"
    rm -f env.c env.h
done
STRATA_JOBS=nope gen opt m -j 2
expect_code 0 "-j 2 wins over an invalid STRATA_JOBS"
checks=$((checks + 1))
cmp -s one.c opt.c || fail "-j 2 with STRATA_JOBS set: the source differs"

# The same listing from check, whatever the threads.
run check -j 1 m
expect_code 0 "check -j 1"
one_out=$OUT
run check -j 4 m
expect_code 0 "check -j 4"
expect_eq "check -j 4 says what -j 1 says" "$one_out" "$OUT"

# Errors in several files, among good ones: each file's diagnostics, in
# file (name) order, exactly as one thread reports them.
cp -r m bad
f() { printf 'bad/2024%04d_a%011x.sql' "$1" "$1"; }
printf -- '-- strata: frobnicate\n' >>"$(f 3)"
sed -i 's/^-- strata: up$/-- strata: upp/' "$(f 77)"
printf -- '-- strata: transaction=maybe\n' >>"$(f 150)"
sed -i 's/revision=/revisoin=/' "$(f 151)"
rm "$(f 222)" && mkdir "$(f 222)"
rm "$(f 300)" && ln -s ../m/"$(basename "$(f 300)")" "$(f 300)"
printf "SELECT 'never closed;\n" >>"$(f 399)"
run check -j 1 bad
expect_code 1 "check -j 1 with errors"
one_err=$ERR
for i in 3 77 150 151 222 300 399; do
    expect_match "check -j 1 names $(f "$i")" "^$(f "$i")(:[0-9]+)*: error: " "$one_err"
done
checks=$((checks + 1))
grep -o '^bad/[^:]*' <<<"$one_err" | LC_ALL=C sort -c 2>/dev/null ||
    fail "check -j 1: diagnostics not in file order: $one_err"
for args in "-j 2" "-j 3" "-j 4" "-j 8" "-j 4" "-j 4"; do
    # shellcheck disable=SC2086
    run check $args bad
    expect_code 1 "check $args with errors"
    expect_eq "check $args: the diagnostics of -j 1, in the same order" "$one_err" "$ERR"
done
gen badout bad -j 4
expect_code 1 "generate -j 4 with errors"
checks=$((checks + 1))
[ ! -e badout.c ] || fail "generate with errors wrote a source"

# What -j and STRATA_JOBS accept.
for v in 0 65 x 1x -1 ""; do
    run generate --namespace jobs -j "$v" --out-c x.c --out-h x.h m
    expect_code 2 "generate -j '$v'"
    expect_match "generate -j '$v' says what it takes" "--jobs '$v': use 1 to 64 threads" "$ERR"
done
STRATA_JOBS=0 run check m
expect_code 2 "STRATA_JOBS=0"
expect_match "STRATA_JOBS=0 names the variable" "STRATA_JOBS '0': use 1 to 64 threads" "$ERR"
STRATA_JOBS= run check m
expect_code 0 "an empty STRATA_JOBS is unset"
finish
