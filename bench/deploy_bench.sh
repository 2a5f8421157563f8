#!/usr/bin/env bash
# deploy_bench.sh [ROUNDS] [RUNS]: silica's binaries side by side (bench/deploy.md).
#
#   1. sizes: each build's silica (file size, and text/data/bss from size(1)),
#      and strata's own share: text + data of libstrata.a's objects (every
#      object of the archive; the linker keeps all of them, since the engine
#      and the CLI reach every file) and of the two embedded bundles, against
#      the goal of 150 KB;
#   2. whole-process no-op startup: `silica cron` on an up-to-date SQLite
#      database (production: open, verify the bundle, one read, the
#      application's own count query, exit), each binary RUNS times per
#      round, ROUNDS rounds, the binaries' order rotating every round, so all
#      share the same (noisy, shared) machine. Reports the median round per
#      binary and the ratios to the dynamic build. Nothing is asserted.
#
# Builds (missing ones are skipped, with the command that makes them):
#   build/release         dynamic: libsqlite3, libz, libpq (and its own
#                         libraries) from the system         cmake --workflow --preset release
#   build/static          everything static, SQLite only      cmake --build --preset static
#                         (the static presets build with -Os: MinSizeRel)
#   build/static-pg       static but glibc, with libpq        cmake --build --preset static-pg
#   build/static-pg-full  everything static, with libpq       cmake --build --preset static-pg-full
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-15}
runs=${2:-100}

names=() bins=() dirs=()
for b in release static static-pg static-pg-full; do
    bin=build/$b/examples/silica/silica
    if [[ -x $bin ]]; then
        names+=("$b")
        bins+=("$PWD/$bin")
        dirs+=("$PWD/build/$b")
    else
        echo "skipped: $bin does not exist (cmake --preset $b && cmake --build --preset $b)"
    fi
done
[[ ${#bins[@]} -gt 0 ]] || exit 1

echo "== machine: $(nproc) CPUs, load $(cut -d ' ' -f 1-3 /proc/loadavg), $(uname -r)"
echo "== compiler: $(cc --version | head -n 1)"
echo
echo "== 1. sizes (bytes)"
tmp=$(mktemp -d /tmp/strata-deploy-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf '%-16s %10s %10s %10s %8s %8s  %s\n' build file stripped text data bss "linked as"
for i in "${!bins[@]}"; do
    read -r text data bss _ < <(size "${bins[$i]}" | tail -n 1)
    how=$(file -L "${bins[$i]}" | grep -o 'statically linked\|dynamically linked')
    [[ $how == dynamically* ]] &&
        how="$how: $(ldd "${bins[$i]}" | awk '$1 !~ /vdso|ld-linux/ {print $1}' | tr '\n' ' ')"
    strip -o "$tmp/stripped" "${bins[$i]}"
    printf '%-16s %10d %10d %10d %8d %8d  %s\n' "${names[$i]}" "$(stat -c %s "${bins[$i]}")" \
        "$(stat -c %s "$tmp/stripped")" "$text" "$data" "$bss" "$how"
done
echo
echo "strata's own share (text + data of the objects; size -t):"
for i in "${!bins[@]}"; do
    lib=$(find "${dirs[$i]}/runtime" -name 'libstrata.a' | head -n 1)
    [[ -n $lib ]] || continue
    read -r text data _ < <(size -t "$lib" | tail -n 1)
    read -r btext bdata _ < <(size -t "${dirs[$i]}"/examples/silica/CMakeFiles/silica.dir/strata/silica/*.o |
        tail -n 1)
    printf '  %-16s libstrata.a %7d (text %d + data %d; goal <= 153600: %s)  bundles %d\n' \
        "${names[$i]}" $((text + data)) "$text" "$data" \
        "$([[ $((text + data)) -le 153600 ]] && echo met || echo NOT met)" $((btext + bdata))
done

echo
echo "== 2. no-op startup: silica cron, $rounds rounds x $runs runs per binary, order rotating"
export SILICA_ENVIRONMENT=production DATABASE_URL=sqlite:///$tmp/bench.db NO_COLOR=1
"${bins[0]}" cron >/dev/null 2>&1 # migrate once; every measured start is a no-op
for i in "${!bins[@]}"; do
    "${bins[$i]}" cron >/dev/null 2>&1 || {
        echo "${names[$i]}: silica cron failed"
        exit 1
    }
done

declare -A per_round
n=${#bins[@]}
for ((r = 0; r < rounds; r++)); do
    for ((k = 0; k < n; k++)); do
        i=$(((k + r) % n))
        bin=${bins[$i]}
        t0=$EPOCHREALTIME
        for ((j = 0; j < runs; j++)); do
            "$bin" cron >/dev/null 2>&1
        done
        t1=$EPOCHREALTIME
        # microseconds per start
        per_round[$i]+="$(((${t1/./} - ${t0/./}) / runs)) "
    done
done

sorted() { tr ' ' '\n' <<<"$1" | grep . | sort -n; }
median() { sorted "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "${per_round[0]}")
printf '%-16s %12s %12s %12s %10s\n' build "median us" "min us" "max us" "/ ${names[0]}"
for i in "${!bins[@]}"; do
    med=$(median "${per_round[$i]}")
    min=$(sorted "${per_round[$i]}" | head -n 1)
    max=$(sorted "${per_round[$i]}" | tail -n 1)
    printf '%-16s %12d %12d %12d %10s\n' "${names[$i]}" "$med" "$min" "$max" \
        "$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
done
echo "(per start: fork + exec in bash, loader, startup, one query, exit; each round's mean over $runs runs)"
