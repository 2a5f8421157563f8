#!/usr/bin/env bash
# consumer_test.sh MODE: one way of using strata from another project.
#   install                 cmake --install the build tree into $STRATA_WORK/prefix
#   package                 consumer/ with find_package(Strata)
#   package_host_tool       the same, with STRATA_BUNDLE_EXECUTABLE
#   pkg_config              a plain compiler line from `pkg-config strata`
#   subdirectory            consumer/ with add_subdirectory(<strata source>)
#   subdirectory_host_tool  the same, with STRATA_BUNDLE_EXECUTABLE
#   hygiene                 add_subdirectory without a build type: the parent's build
#                           type, tests and install rules are left alone
#   sqlite_only             add_subdirectory with STRATA_WITH_POSTGRESQL=OFF: the app
#                           does not link libpq
#   regenerate              a copy of consumer/ (add_subdirectory): adding, editing and
#                           removing a migration file each regenerate the bundle
# The environment comes from tests/cmake/CMakeLists.txt.
set -euo pipefail

mode=$1
prefix=$STRATA_WORK/prefix
dir=$STRATA_WORK/$mode
expected=$'demo: 2 migrations\nstatus 0: '

fail() {
    echo "FAIL ($mode): $*" >&2
    exit 1
}

# A host strata-bundle that logs each call, so the test can tell it was used.
make_host_tool() {
    local tool=$dir/host-strata-bundle
    printf '#!/bin/sh\necho "$*" >>"%s/host-tool.log"\nexec "%s" "$@"\n' "$dir" \
        "$STRATA_HOST_TOOL" >"$tool"
    chmod +x "$tool"
    echo "$tool"
}

check_app() {
    local out
    out=$("$1") || fail "$1 exited with $?"
    printf '%s\n' "$out"
    [[ $out == "$expected"* ]] || fail "unexpected output from $1"
}

configure_build_run() {
    local args=(-S "$STRATA_CONSUMER" -B "$dir/build" -G "$CMAKE_GENERATOR"
        -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCMAKE_C_COMPILER="$CC"
        -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" "$@")
    [[ -n $CMAKE_MAKE_PROGRAM ]] && args+=(-DCMAKE_MAKE_PROGRAM="$CMAKE_MAKE_PROGRAM")
    "$CMAKE" "${args[@]}" || fail "configure"
    "$CMAKE" --build "$dir/build" || fail "build"
    check_app "$dir/build/app"
    # A second build neither bundles nor compiles anything again.
    "$CMAKE" --build "$dir/build" 2>&1 | tee "$dir/rebuild.log"
    if grep -Eq 'Bundling migrations|Building C|Linking C' "$dir/rebuild.log"; then
        fail "a second build with no change did work"
    fi
}

# With STRATA_LIBPQ_DLOPEN (the default dynamic build) libpq is loaded on the
# first PostgreSQL URL: neither the application nor the installed package
# and strata.pc depend on it.
check_no_libpq() {
    [[ ${STRATA_PQ_DLOPEN:-OFF} == ON ]] || return 0
    if ldd "$1" | grep libpq; then
        fail "$1 links libpq, which strata loads only for a PostgreSQL URL"
    fi
    if grep -rl -e libpq -e PostgreSQL "$prefix"/lib*/pkgconfig/strata.pc \
        "$prefix"/lib*/cmake/Strata/StrataConfig.cmake "$prefix"/lib*/cmake/Strata/StrataTargets*.cmake; then
        fail "the installed package names libpq"
    fi
    echo "the app does not link libpq; the package and strata.pc do not name it"
}

check_host_tool_used() {
    [[ -s $dir/host-tool.log ]] || fail "STRATA_BUNDLE_EXECUTABLE was not used"
    grep -q '^generate ' "$dir/host-tool.log" || fail "host tool not asked to generate"
}

rm -rf "$dir"
mkdir -p "$dir"
case $mode in
install)
    rm -rf "$prefix"
    "$CMAKE" --install "$STRATA_BUILD_DIR" --prefix "$prefix" || fail "cmake --install"
    for f in include/strata/strata.h include/strata/bundle.h bin/strata-bundle; do
        [[ -e $prefix/$f ]] || fail "not installed: $f"
    done
    for f in cmake/Strata/StrataConfig.cmake cmake/Strata/StrataConfigVersion.cmake \
        cmake/Strata/StrataTargets.cmake cmake/Strata/StrataMigrations.cmake pkgconfig/strata.pc; do
        compgen -G "$prefix/lib*/$f" >/dev/null || compgen -G "$prefix/lib/*/$f" >/dev/null ||
            fail "not installed: lib/$f"
    done
    compgen -G "$prefix/lib*/libstrata.*" >/dev/null ||
        compgen -G "$prefix/lib/*/libstrata.*" >/dev/null || fail "not installed: libstrata"
    ;;
package)
    configure_build_run -DSTRATA_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix"
    check_no_libpq "$dir/build/app"
    ;;
package_host_tool)
    tool=$(make_host_tool)
    configure_build_run -DSTRATA_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix" \
        -DSTRATA_BUNDLE_EXECUTABLE="$tool"
    check_host_tool_used
    ;;
subdirectory)
    configure_build_run -DSTRATA_CONSUMER_MODE=subdirectory \
        -DSTRATA_SOURCE_DIR="$STRATA_SOURCE_DIR"
    [[ -x $dir/build/strata/bundler/strata-bundle ]] || fail "strata-bundle was not built in-tree"
    ;;
subdirectory_host_tool)
    tool=$(make_host_tool)
    configure_build_run -DSTRATA_CONSUMER_MODE=subdirectory \
        -DSTRATA_SOURCE_DIR="$STRATA_SOURCE_DIR" -DSTRATA_BUNDLE_EXECUTABLE="$tool"
    check_host_tool_used
    ;;
hygiene)
    # add_subdirectory(strata) leaves the parent project as it was: no build
    # type forced on it, no tests of strata's, nothing of strata installed.
    args=(-S "$STRATA_CONSUMER" -B "$dir/build" -G "$CMAKE_GENERATOR" -DCMAKE_C_COMPILER="$CC"
        -DSTRATA_CONSUMER_MODE=subdirectory -DSTRATA_SOURCE_DIR="$STRATA_SOURCE_DIR")
    [[ -n $CMAKE_MAKE_PROGRAM ]] && args+=(-DCMAKE_MAKE_PROGRAM="$CMAKE_MAKE_PROGRAM")
    "$CMAKE" "${args[@]}" >"$dir/configure.log" || fail "configure"
    bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$dir/build/CMakeCache.txt")
    [[ -z $bt ]] || fail "strata set the parent's CMAKE_BUILD_TYPE to '$bt'"
    grep -q '^STRATA_BUILD_TESTS:BOOL=OFF' "$dir/build/CMakeCache.txt" ||
        fail "strata's tests are on in a parent project"
    grep -q '^STRATA_INSTALL:BOOL=OFF' "$dir/build/CMakeCache.txt" ||
        fail "strata's install rules are on in a parent project"
    "$CMAKE" --build "$dir/build" >/dev/null || fail "build"
    "$CMAKE" --install "$dir/build" --prefix "$dir/prefix" >"$dir/install.log" 2>&1 ||
        fail "cmake --install"
    if [[ -n $(find "$dir/prefix" -type f 2>/dev/null) ]]; then
        find "$dir/prefix" -type f
        fail "installing the parent project installed strata's files"
    fi
    echo "parent build type untouched, strata's tests off, nothing of strata installed"
    ;;
sqlite_only)
    configure_build_run -DSTRATA_CONSUMER_MODE=subdirectory \
        -DSTRATA_SOURCE_DIR="$STRATA_SOURCE_DIR" -DSTRATA_WITH_POSTGRESQL=OFF
    if ldd "$dir/build/app" | grep -q libpq; then
        fail "a SQLite-only build still links libpq"
    fi
    echo "the app does not link libpq"
    ;;
regenerate)
    cp -r "$STRATA_CONSUMER" "$dir/src"
    STRATA_CONSUMER=$dir/src configure_build_run -DSTRATA_CONSUMER_MODE=subdirectory \
        -DSTRATA_SOURCE_DIR="$STRATA_SOURCE_DIR"
    gen=$(find "$dir/build" -name strata_bundle_demo.c | head -n 1)
    [[ -f $gen ]] || fail "no generated strata_bundle_demo.c"
    new=$dir/src/migrations/20250103_0000_abcdefabcdef_add_more.sql
    printf -- '-- strata: revision=abcdefabcdef revises=0f1e2d3c4b5a\n-- strata: up\nSELECT 1;\n' >"$new"
    "$CMAKE" --build "$dir/build" >"$dir/added.log" 2>&1 || fail "build after adding a file"
    # the revisions are compressed in the image: the app counts them
    [[ $("$dir/build/app" | head -n 1) == "demo: 3 migrations" ]] ||
        fail "an added migration did not reach the bundle"
    cp "$gen" "$dir/before-edit.c"
    printf -- 'SELECT 2;\n' >>"$new"
    "$CMAKE" --build "$dir/build" >"$dir/edited.log" 2>&1 || fail "build after editing a file"
    cmp -s "$gen" "$dir/before-edit.c" && fail "an edited migration did not change the bundle"
    rm "$new"
    "$CMAKE" --build "$dir/build" >"$dir/removed.log" 2>&1 || fail "build after removing a file"
    [[ $("$dir/build/app" | head -n 1) == "demo: 2 migrations" ]] ||
        fail "a removed migration stayed in the bundle"
    check_app "$dir/build/app"
    echo "added, edited and removed: the bundle followed each time"
    ;;
pkg_config)
    [[ -n $PKG_CONFIG ]] || fail "pkg-config not found: apt-get install pkg-config"
    pcdir=$(dirname "$(find "$prefix" -name strata.pc | head -n 1)")
    export PKG_CONFIG_PATH=$pcdir
    flags=$("$PKG_CONFIG" --cflags --libs strata) || fail "pkg-config --cflags --libs strata"
    echo "pkg-config --cflags --libs strata: $flags"
    tool=$("$PKG_CONFIG" --variable=strata_bundle strata)
    [[ -x $tool ]] || fail "pkg-config variable strata_bundle: '$tool' is not executable"
    "$tool" generate --namespace demo --out-c "$dir/strata_bundle_demo.c" \
        --out-h "$dir/strata_bundle_demo.h" "$STRATA_CONSUMER/migrations" || fail "generate"
    # shellcheck disable=SC2086 # CFLAGS, LDFLAGS and flags are word lists
    "$CC" $CFLAGS -std=c11 -Wall -Wextra -pedantic -Werror -I"$dir" \
        "$STRATA_CONSUMER/main.c" "$dir/strata_bundle_demo.c" $flags $LDFLAGS -o "$dir/app" ||
        fail "compile and link with pkg-config flags"
    # A shared libstrata is found the way an installed one would be.
    LD_LIBRARY_PATH=$("$PKG_CONFIG" --variable=libdir strata)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        check_app "$dir/app"
    LD_LIBRARY_PATH=$("$PKG_CONFIG" --variable=libdir strata)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        check_no_libpq "$dir/app"
    ;;
*)
    fail "unknown mode"
    ;;
esac
echo "ok: $mode"
