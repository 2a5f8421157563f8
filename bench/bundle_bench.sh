#!/usr/bin/env bash
# bundle_bench.sh [N] - the bundle benchmark (bench/README.md).
#
# Generates N migrations (default 10000, about 20 MB of SQL), then measures,
# side by side in one run:
#   - strata-bundle generate: wall time, CPU time, peak RSS;
#   - cc -O2 -c of the generated source: wall time, CPU time, peak RSS;
#   - the same compile with image[] written as an `xxd -i`-style byte list
#     instead of a string literal;
#   - the image's bytes (everything the bundle embeds) against the raw SQL
#     and against gzip -9 of the concatenated files;
# and checks the round trip (open + inflate of every section).
# Timings are the minimum of STRATA_BENCH_REPEAT runs (default 3), the
# literal and byte-list compiles alternating. No timing is ever asserted:
# the target lines say "met" or "NOT met" and the exit status only reflects
# failures (a tool failing, a round trip not matching).
#
# Tools come from the environment, or from STRATA_BUILD_DIR (default
# build-bench, else build, in the source tree):
#   STRATA_BUNDLE     strata-bundle
#   STRATA_GEN        gen_migrations
#   STRATA_CHECK_LIB  libstrata_bench_check.a
#   STRATA_ZLIB       zlib to link (default -lz)
#   STRATA_INCLUDE    runtime/include
#   STRATA_CC         C compiler (default cc)
#   STRATA_LDFLAGS    flags for linking the round-trip check (e.g. sanitizers,
#                     when the check library was built with them)
#   STRATA_LEVEL      strata-bundle --level (default: the bundler's default)
#   STRATA_BENCH_KEEP=1 keeps the work directory
set -euo pipefail
export LC_ALL=C

n=${1:-10000}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD_DIR:-}
if [ -z "$build" ]; then
    if [ -d "$src/build-bench" ]; then build=$src/build-bench; else build=$src/build; fi
fi
bundle=${STRATA_BUNDLE:-$build/bundler/strata-bundle}
gen=${STRATA_GEN:-$build/bench/gen_migrations}
checklib=${STRATA_CHECK_LIB:-$build/bench/libstrata_bench_check.a}
zlib=${STRATA_ZLIB:--lz}
inc=${STRATA_INCLUDE:-$src/runtime/include}
cc=${STRATA_CC:-cc}
repeat=${STRATA_BENCH_REPEAT:-3}
level_opt=()
[ -n "${STRATA_LEVEL:-}" ] && level_opt=(--level "$STRATA_LEVEL")

for f in "$bundle" "$gen" "$checklib"; do
    [ -e "$f" ] || { echo "bundle_bench: $f not found: build first (cmake --build)" >&2; exit 2; }
done
timer=/usr/bin/time
if ! "$timer" -f %e true 2>/dev/null; then
    echo "bundle_bench: needs GNU time as /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
[ "${STRATA_BENCH_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

# measure OUT CMD...: runs CMD, appends "wall user+sys maxrss_kb" to OUT
measure() {
    local out=$1
    shift
    "$timer" -o "$work/time.tmp" -f '%e %U %S %M' "$@"
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time.tmp" >>"$out"
}
# best OUT: the run with the least wall time, as "wall cpu rss"
best() { sort -n "$1" | head -n 1; }

echo "== generating $n migrations"
"$gen" "$work/mig" "$n"
raw=$(cat "$work"/mig/*.sql | wc -c)
cat "$work"/mig/*.sql | "$timer" -o "$work/gzip.time" -f '%e' gzip -9 >"$work/all.sql.gz"
gz=$(wc -c <"$work/all.sql.gz")

echo "== bundling and compiling ($repeat run(s) each)"
out_c=$work/strata_bundle_bench.c
for ((r = 0; r < repeat; r++)); do
    rm -f "$out_c" "$work/strata_bundle_bench.h"
    measure "$work/bundle.times" "$bundle" generate --namespace bench "${level_opt[@]}" \
        --out-c "$out_c" --out-h "$work/strata_bundle_bench.h" "$work/mig"
done
cp "$out_c" "$work/first.c"
# determinism: the same inputs give the same bytes
cmp -s "$work/first.c" "$out_c" || { echo "bundle_bench: output differs between runs" >&2; exit 1; }

# The round trip, and the raw image for the byte-list variant.
"$cc" -O2 -c -I"$inc" "$out_c" -o "$work/bundle.o"
"$cc" ${STRATA_LDFLAGS:-} -o "$work/check" "$work/bundle.o" "$checklib" $zlib
"$work/check" | tee "$work/check.out"
"$work/check" "$work/image.bin"
image=$(sed -n 's/^sizes: image=\([0-9]*\).*/\1/p' "$work/check.out")
blocks=$(sed -n 's/^sizes:.* blocks=\([0-9]*\).*/\1/p' "$work/check.out")
tables=$(sed -n 's/^sizes:.* tables=\([0-9]*\).*/\1/p' "$work/check.out")
nblocks=$(sed -n 's/^sizes:.* nblocks=\([0-9]*\).*/\1/p' "$work/check.out")

# The byte-list variant: the same file with the literal replaced.
bytes() {
    if command -v xxd >/dev/null; then xxd -i <"$1" | sed '$ s/[0-9a-f]$/&,/'; else od -An -v -tx1 "$1" |
        awk '{ s = "  "; for (i = 1; i <= NF; i++) s = s "0x" $i ", "; print s }'; fi
}
list_c=$work/strata_bundle_bench_bytelist.c
bytes "$work/image.bin" >"$work/image.list"
awk -v ifile="$work/image.list" '
    skip && /";$/ { skip = 0; next }
    skip { next }
    /^static const unsigned char image\[\] =$/ {
        print "static const unsigned char image[] = {"; while ((getline l < ifile) > 0) print l
        print "  0x00};"; skip = 1; next }
    { print }' "$out_c" >"$list_c"

for ((r = 0; r < repeat; r++)); do
    measure "$work/cc.times" "$cc" -O2 -c -I"$inc" "$out_c" -o "$work/lit.o"
    measure "$work/cclist.times" "$cc" -O2 -c -I"$inc" "$list_c" -o "$work/list.o"
done
# Both objects hold the same data (the byte list adds one byte per array).
sz() { size -A "$1" 2>/dev/null | awk '$1 ~ /rodata|data\.rel\.ro/ { s += $2 } END { print s + 0 }'; }

read -r bw bc brss < <(best "$work/bundle.times")
read -r cw ccpu crss < <(best "$work/cc.times")
read -r lw lcpu lrss < <(best "$work/cclist.times")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
total=$(awk -v a="$bw" -v b="$cw" 'BEGIN { printf "%.2f", a + b }')
pg=$(ratio "$image" "$gz")
met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "NOT met" }'; }

cat <<EOF

== strata bundle benchmark: $n migrations, $(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)
   $("$cc" --version | head -n 1); level ${STRATA_LEVEL:-default}; best of $repeat

  input
    migration files (raw SQL)         $(printf '%12d' "$raw") bytes
    gzip -9 of their concatenation    $(printf '%12d' "$gz") bytes   ($(ratio "$raw" "$gz")x, $(cat "$work/gzip.time") s)
  bundle
    image (everything embedded)       $(printf '%12d' "$image") bytes
    of which scripts' blocks          $(printf '%12d' "$blocks") bytes   ($nblocks blocks)
    of which tables, strings, hashes  $(printf '%12d' "$tables") bytes
    generated source                  $(printf '%12d' "$(wc -c <"$out_c")") bytes
    byte-list source                  $(printf '%12d' "$(wc -c <"$list_c")") bytes
  time (wall s / cpu s / peak RSS)
    strata-bundle generate            $(printf '%8s s %8s s %9s KB' "$bw" "$bc" "$brss")
    cc -O2 -c, string literals        $(printf '%8s s %8s s %9s KB' "$cw" "$ccpu" "$crss")
    cc -O2 -c, byte list              $(printf '%8s s %8s s %9s KB' "$lw" "$lcpu" "$lrss")
  ratios
    image / gzip -9                   $pg
    blocks / gzip -9                  $(ratio "$blocks" "$gz")
    image / raw SQL                   $(ratio "$image" "$raw")
    compile: byte list / literals     $(ratio "$lw" "$cw") wall, $(ratio "$lcpu" "$ccpu") cpu
    object data: byte list / literals $(ratio "$(sz "$work/list.o")" "$(sz "$work/lit.o")")
  targets
    bundle + compile <= 1 s           $total s wall: $(met "$total" 1)
    image <= 1.3x gzip -9             ${pg}x: $(met "$pg" 1.3)
EOF
