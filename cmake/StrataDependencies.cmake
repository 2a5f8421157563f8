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

# pthreads, where there are any: the bundler's parse and deflate run on a few
# threads (runtime/src/base/parallel.c); without them, on one.
find_package(Threads)

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

# libpq loaded on the first PostgreSQL URL (runtime/src/engine/backend_pg.h):
# libstrata then needs libpq's header to build, and neither it nor the
# programs that link it depend on libpq. A static program cannot dlopen
# (and has libpq inside), so the static presets link it.
set(STRATA_PQ_DLOPEN OFF)
if(STRATA_WITH_POSTGRESQL AND STRATA_LIBPQ_DLOPEN AND STRATA_STATIC_LINK STREQUAL "OFF")
  set(STRATA_PQ_DLOPEN ON)
  # The file dlopen looks for: the SONAME of the libpq found here.
  set(_strata_soname "")
  get_target_property(_strata_pq_lib PostgreSQL::PostgreSQL IMPORTED_LOCATION)
  if(NOT _strata_pq_lib)
    set(_strata_pq_lib "${PostgreSQL_LIBRARY}")
  endif()
  if(CMAKE_OBJDUMP AND _strata_pq_lib AND EXISTS "${_strata_pq_lib}")
    execute_process(COMMAND ${CMAKE_OBJDUMP} -p "${_strata_pq_lib}" OUTPUT_VARIABLE _strata_dump
                    ERROR_QUIET)
    if(_strata_dump MATCHES "SONAME +([^ \n]+)")
      set(_strata_soname "${CMAKE_MATCH_1}")
    endif()
  endif()
  if(NOT _strata_soname)
    if(APPLE)
      set(_strata_soname libpq.5.dylib)
    else()
      set(_strata_soname libpq.so.5)
    endif()
  endif()
  set(STRATA_LIBPQ_SONAME "${_strata_soname}" CACHE STRING
      "The libpq that a STRATA_LIBPQ_DLOPEN build loads (dlopen's file name)")
  # dlopen is in libc from glibc 2.34; before, and elsewhere, in libdl.
  include(CheckSymbolExists)
  check_symbol_exists(dlopen dlfcn.h STRATA_DLOPEN_IN_LIBC)
  set(STRATA_DL_LIBS "")
  if(NOT STRATA_DLOPEN_IN_LIBC)
    set(STRATA_DL_LIBS ${CMAKE_DL_LIBS})
  endif()
endif()

# Static presets: what the static archives need, and -static on the programs
# that link libstrata once its target exists (end of this directory).
strata_static_fixup()
if(NOT STRATA_STATIC_LINK STREQUAL "OFF")
  cmake_language(DEFER CALL strata_static_link strata)
endif()
