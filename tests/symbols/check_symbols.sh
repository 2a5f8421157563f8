#!/usr/bin/env bash
# check_symbols.sh NM PUBLIC_HEADERS_DIR LIBSTRATA.a LIBSTRATA.so
# 1. libstrata.a: every defined global symbol is public (declared STRATA_API
#    in the public headers) or internal (strata__...): an application may
#    define its own read_file() or path_join() and still link.
# 2. libstrata.so: the exported symbols are exactly the public API.
set -u
nm=$1 headers=$2 static=$3 shared=$4
fail=0
work=$(mktemp -d /tmp/strata-sym.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The public API: every function a public header declares STRATA_API.
grep -hv '^#' "$headers"/*.h | tr '\n' ' ' | grep -o 'STRATA_API[^;(]*(' |
    sed -E 's/.*[ *]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\($/\1/' | sort -u >"$work/public"
echo "public API: $(wc -l <"$work/public") functions"
[[ -s $work/public ]] || { echo "FAILED: no STRATA_API declaration found"; exit 1; }

# Names starting with "__" belong to the implementation (a sanitizer's
# __odr_asan.*, for one): no application may define them.
"$nm" -g --defined-only "$static" 2>/dev/null | awk 'NF == 3 { print $3 }' | grep -v '^__' |
    sort -u >"$work/static"
echo "libstrata.a: $(wc -l <"$work/static") global symbols," \
    "$(grep -c '^strata__' "$work/static") internal (strata__)"
bad=$(grep -v '^strata__' "$work/static" | comm -23 - "$work/public")
if [[ -n $bad ]]; then
    echo "FAILED: global symbols of libstrata.a that are neither public nor strata__:"
    sed 's/^/    /' <<<"$bad"
    fail=1
fi
missing=$(comm -13 "$work/static" "$work/public")
if [[ -n $missing ]]; then
    echo "FAILED: public functions libstrata.a does not define:"
    sed 's/^/    /' <<<"$missing"
    fail=1
fi

"$nm" -D --defined-only "$shared" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRVW]/ { print $3 }' |
    grep -v '^_' | sort -u >"$work/shared"
echo "libstrata.so: $(wc -l <"$work/shared") exported symbols"
extra=$(comm -23 "$work/shared" "$work/public")
if [[ -n $extra ]]; then
    echo "FAILED: libstrata.so exports what is not public API:"
    sed 's/^/    /' <<<"$extra"
    fail=1
fi
missing=$(comm -13 "$work/shared" "$work/public")
if [[ -n $missing ]]; then
    echo "FAILED: public functions libstrata.so does not export:"
    sed 's/^/    /' <<<"$missing"
    fail=1
fi
[[ $fail -eq 0 ]] && echo "ok: every global symbol is strata_ (public) or strata__ (internal);" \
    "the shared library exports the public API only"
exit $fail
