#!/usr/bin/env bash
# check_style.sh format|banned SOURCE_DIR
#   format  clang-format --dry-run -Werror over the project's *.c and *.h,
#           except tests/fixtures and generated files ("do not edit")
#   banned  no sprintf, vsprintf, strcpy, strcat, strtok, atoi, atol, gets in
#           bundler/, runtime/, examples/ (use snprintf, memcpy with a known
#           length, strata_parse_u64, ...)
set -euo pipefail

what=$1
cd "$2"

sources() {
    local d
    for d in "$@"; do
        [[ -d $d ]] || continue
        find "$d" \( -path tests/fixtures -o -name 'build*' \) -prune -o \
            -type f \( -name '*.c' -o -name '*.h' \) -print
    done | sort
}

case $what in
format)
    if [[ -z ${CLANG_FORMAT:-} ]] || ! command -v "$CLANG_FORMAT" >/dev/null; then
        echo "clang-format not found: apt-get install clang-format" >&2
        exit 1
    fi
    files=()
    while IFS= read -r f; do
        head -n 5 "$f" | grep -qi 'do not edit' && continue
        files+=("$f")
    done < <(sources bundler runtime examples tests bench)
    echo "$("$CLANG_FORMAT" --version): ${#files[@]} files"
    bad=()
    for f in "${files[@]}"; do
        if ! "$CLANG_FORMAT" --dry-run -Werror --style=file "$f" 2>/dev/null; then
            bad+=("$f")
            "$CLANG_FORMAT" --style=file "$f" | diff -u "$f" - | head -n 30 >&2 || true
        fi
    done
    if [[ ${#bad[@]} -gt 0 ]]; then
        printf 'not formatted: %s\n' "${bad[@]}" >&2
        echo "fix with: clang-format -i ${bad[*]}" >&2
        exit 1
    fi
    ;;
banned)
    pattern='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\('
    mapfile -t files < <(sources bundler runtime examples)
    if [[ ${#files[@]} -gt 0 ]] && grep -nE "$pattern" "${files[@]}"; then
        echo "Banned functions used (see docs STYLE: snprintf, memcpy, strata_parse_u64)" >&2
        exit 1
    fi
    echo "no banned functions in ${#files[@]} files"
    ;;
*)
    echo "usage: check_style.sh format|banned SOURCE_DIR" >&2
    exit 2
    ;;
esac
