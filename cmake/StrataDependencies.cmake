# Finds the system libraries strata builds on. Each failure names the Debian
# package that provides the missing piece.

function(strata_missing what package)
  message(FATAL_ERROR "strata needs ${what}. On Debian or Ubuntu: apt-get install ${package}")
endfunction()

include(StrataStatic)
strata_static_prepare()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  strata_missing("zlib" "zlib1g-dev")
endif()

find_path(XXHASH_INCLUDE_DIR xxhash.h)
if(NOT XXHASH_INCLUDE_DIR)
  strata_missing("xxHash (xxhash.h)" "libxxhash-dev")
endif()
# XXH_INLINE_ALL: xxHash is compiled into strata; only its header is needed.

find_package(SQLite3 QUIET)
if(NOT SQLite3_FOUND)
  strata_missing("SQLite 3" "libsqlite3-dev")
endif()

if(STRATA_WITH_POSTGRESQL)
  find_package(PostgreSQL QUIET)
  if(NOT PostgreSQL_FOUND OR NOT TARGET PostgreSQL::PostgreSQL)
    strata_missing("libpq (PostgreSQL client library; or -DSTRATA_WITH_POSTGRESQL=OFF)"
                   "libpq-dev")
  endif()
endif()

# Static presets: what the static archives need, and -static on the programs
# that link libstrata once its target exists (end of this directory).
strata_static_fixup()
if(NOT STRATA_STATIC_LINK STREQUAL "OFF")
  cmake_language(DEFER CALL strata_static_link strata)
endif()
