#!/usr/bin/env bash
# check_headers.sh INCLUDE_DIR WORK_DIR: compiles each INCLUDE_DIR/strata/*.h
# alone (included twice, for the guard) with -std=c11 -pedantic -Werror, with
# and without STRATA_STATIC, and as C++11 when $CXX is set.
set -euo pipefail

inc=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
strict=(-Wall -Wextra -Werror -Wshadow -Wundef -Wstrict-prototypes -Wmissing-prototypes)
strict_cxx=(-Wall -Wextra -Werror -Wshadow -Wundef)
failed=0
n=0
shopt -s nullglob
headers=("$inc"/strata/*.h)
[[ ${#headers[@]} -gt 0 ]] || {
    echo "no headers in $inc/strata" >&2
    exit 1
}
for h in "${headers[@]}"; do
    name=strata/$(basename "$h")
    base=$(basename "$h" .h)
    printf '#include <%s>\n#include <%s>\nint strata_header_test_%s;\n' "$name" "$name" \
        "$base" >"$work/$base.c"
    for def in "" -DSTRATA_STATIC; do
        n=$((n + 1))
        if ! "$CC" -std=c11 -pedantic "${strict[@]}" $def -I"$inc" -c "$work/$base.c" \
            -o "$work/$base.o"; then
            echo "FAIL: $name as C11 $def" >&2
            failed=1
        fi
    done
    if [[ -n ${CXX:-} ]]; then
        cp "$work/$base.c" "$work/$base.cpp"
        n=$((n + 1))
        if ! "$CXX" -std=c++11 -pedantic "${strict_cxx[@]}" -I"$inc" -c "$work/$base.cpp" \
            -o "$work/$base.cpp.o"; then
            echo "FAIL: $name as C++11" >&2
            failed=1
        fi
    fi
done
[[ -n ${CXX:-} ]] || echo "note: no C++ compiler; C++ checks not run"
echo "${#headers[@]} headers, $n compilations"
exit $failed
