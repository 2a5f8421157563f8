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

# libpg_query: PostgreSQL's parser as a library, for strata-bundle verify
# only (the PostgreSQL checks of migrations at build time); libstrata never
# links it. Debian ships no pkg-config or CMake file for it.
if(NOT STRATA_BUNDLE_EXECUTABLE)
  find_path(STRATA_PG_QUERY_INCLUDE_DIR pg_query.h)
  find_library(STRATA_PG_QUERY_LIBRARY pg_query)
  if(NOT STRATA_PG_QUERY_INCLUDE_DIR OR NOT STRATA_PG_QUERY_LIBRARY)
    strata_missing("libpg_query (pg_query.h, libpg_query: the PostgreSQL parser that "
                   "strata-bundle verify checks migrations with)" "libpg-query-dev")
  endif()
  if(NOT TARGET strata_pg_query)
    add_library(strata_pg_query UNKNOWN IMPORTED)
    set_target_properties(strata_pg_query PROPERTIES
      IMPORTED_LOCATION "${STRATA_PG_QUERY_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${STRATA_PG_QUERY_INCLUDE_DIR}")
    if(STRATA_PG_QUERY_LIBRARY MATCHES "\\.a$")
      # the archive uses threads (its per-thread memory contexts)
      find_package(Threads REQUIRED)
      set_property(TARGET strata_pg_query APPEND PROPERTY INTERFACE_LINK_LIBRARIES
                   Threads::Threads)
    endif()
  endif()
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
