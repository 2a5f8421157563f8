# Static linking of applications that embed strata (presets static, static-pg,
# static-pg-full; docs/deploy/README.md). One cache variable:
#
#   STRATA_STATIC_LINK=OFF           shared system libraries (the default)
#   STRATA_STATIC_LINK=ALL           everything static, glibc included: `file` says
#                                    "statically linked", the binary runs in an empty root
#   STRATA_STATIC_LINK=ALL_BUT_LIBC  every library static but glibc: the binary
#                                    needs libc.so.6 (and libm.so.6) and the loader only
#
# Used in-tree (StrataDependencies.cmake) and by the installed package
# (StrataConfig.cmake), so find_package(Strata) and add_subdirectory() users
# get the same result from one -DSTRATA_STATIC_LINK=... on their configure line:
#   strata_static_prepare()      before the find_package() of the dependencies:
#                                static archives (.a) only
#   strata_static_fixup()        after them: what the archives need and their
#                                imported targets do not say (libm for SQLite;
#                                libpgcommon, libpgport, OpenSSL and
#                                strata_static_pq.c for libpq)
#   strata_static_link(<target>) link options for every program that links
#                                <target> (strata): -static with ALL
include_guard(GLOBAL)
set(STRATA_STATIC_DIR "${CMAKE_CURRENT_LIST_DIR}")

if(NOT DEFINED STRATA_STATIC_LINK_DEFAULT)
  set(STRATA_STATIC_LINK_DEFAULT OFF)
endif()
set(STRATA_STATIC_LINK "${STRATA_STATIC_LINK_DEFAULT}" CACHE STRING
    "Link programs statically: OFF, ALL (glibc included) or ALL_BUT_LIBC")
set_property(CACHE STRATA_STATIC_LINK PROPERTY STRINGS OFF ALL ALL_BUT_LIBC)
if(NOT STRATA_STATIC_LINK MATCHES "^(OFF|ALL|ALL_BUT_LIBC)$")
  message(FATAL_ERROR "STRATA_STATIC_LINK='${STRATA_STATIC_LINK}': use OFF, ALL or ALL_BUT_LIBC")
endif()

function(strata_static_missing what package)
  message(FATAL_ERROR "STRATA_STATIC_LINK=${STRATA_STATIC_LINK} needs ${what}. "
                      "On Debian 12: apt-get install ${package} (scripts/deps.sh: STRATA_STATIC_DEPS)")
endfunction()

# A macro: the suffixes must be set in the caller's scope, where the
# find_package() calls run (a -D on the command line is shadowed by the
# platform's normal variable).
macro(strata_static_prepare)
  if(NOT STRATA_STATIC_LINK STREQUAL "OFF")
    set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
    set(OPENSSL_USE_STATIC_LIBS TRUE)
  endif()
endmacro()

function(strata_static_fixup)
  if(STRATA_STATIC_LINK STREQUAL "OFF")
    return()
  endif()
  foreach(t ZLIB::ZLIB SQLite::SQLite3)
    if(TARGET ${t})
      get_target_property(loc ${t} IMPORTED_LOCATION)
      if(loc AND NOT loc MATCHES "\\.a$")
        strata_static_missing("a static ${t} (found ${loc})" "zlib1g-dev libsqlite3-dev")
      endif()
    endif()
  endforeach()
  if(TARGET SQLite::SQLite3)
    # libsqlite3.a calls the maths library (glibc 2.34+ has dl and pthread in libc).
    set_property(TARGET SQLite::SQLite3 APPEND PROPERTY INTERFACE_LINK_LIBRARIES m)
  endif()
  if(NOT TARGET PostgreSQL::PostgreSQL OR TARGET strata_static_pq)
    return()
  endif()
  # libpq.a: Debian's archive also needs the frontend halves of libpgcommon
  # and libpgport (postgresql-server-dev-NN, in pg_config --pkglibdir) and
  # OpenSSL; pkg-config --static omits the first two.
  get_target_property(pq PostgreSQL::PostgreSQL IMPORTED_LOCATION)
  if(NOT pq MATCHES "\\.a$")
    strata_static_missing("a static libpq (found ${pq})" "libpq-dev")
  endif()
  string(REGEX MATCH "^[0-9]+" pg_major "${PostgreSQL_VERSION_STRING}")
  find_program(STRATA_PG_CONFIG pg_config)
  set(pkglibdir "")
  if(STRATA_PG_CONFIG)
    execute_process(COMMAND ${STRATA_PG_CONFIG} --pkglibdir OUTPUT_VARIABLE pkglibdir
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  find_library(STRATA_PGCOMMON_LIBRARY NAMES pgcommon_shlib
               HINTS ${pkglibdir} /usr/lib/postgresql/${pg_major}/lib NO_CACHE)
  find_library(STRATA_PGPORT_LIBRARY NAMES pgport_shlib
               HINTS ${pkglibdir} /usr/lib/postgresql/${pg_major}/lib NO_CACHE)
  if(NOT STRATA_PGCOMMON_LIBRARY OR NOT STRATA_PGPORT_LIBRARY)
    strata_static_missing("libpgcommon_shlib.a and libpgport_shlib.a"
                          "postgresql-server-dev-${pg_major}")
  endif()
  find_package(OpenSSL QUIET)
  if(NOT TARGET OpenSSL::SSL)
    strata_static_missing("a static OpenSSL (libssl.a, libcrypto.a)" "libssl-dev")
  endif()
  # No static GSSAPI or LDAP archive exists: strata_static_pq.c stands in
  # for both and fails with a message. It includes their headers so that the
  # compiler checks every signature.
  find_path(STRATA_GSSAPI_INCLUDE_DIR gssapi/gssapi.h NO_CACHE)
  find_path(STRATA_LDAP_INCLUDE_DIR ldap.h NO_CACHE)
  if(NOT STRATA_GSSAPI_INCLUDE_DIR OR NOT STRATA_LDAP_INCLUDE_DIR)
    strata_static_missing("the GSSAPI and LDAP headers" "libkrb5-dev libldap-dev")
  endif()
  add_library(strata_static_pq STATIC "${STRATA_STATIC_DIR}/strata_static_pq.c")
  set_target_properties(strata_static_pq PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF)
  target_compile_definitions(strata_static_pq PRIVATE _POSIX_C_SOURCE=200809L)
  target_include_directories(strata_static_pq SYSTEM PRIVATE ${STRATA_GSSAPI_INCLUDE_DIR}
                                                             ${STRATA_LDAP_INCLUDE_DIR})
  # Archive order: each after those that call it.
  set_property(TARGET PostgreSQL::PostgreSQL APPEND PROPERTY INTERFACE_LINK_LIBRARIES
               ${STRATA_PGCOMMON_LIBRARY} ${STRATA_PGPORT_LIBRARY} OpenSSL::SSL OpenSSL::Crypto
               strata_static_pq)
endfunction()

# Link options for every program linking <target>. With ALL: -static, and
# with libpq, getpwuid_r answered by strata_static_pq.c ("no such user")
# instead of a static glibc that would load NSS modules at run time.
function(strata_static_link target)
  if(NOT STRATA_STATIC_LINK STREQUAL "ALL")
    return()
  endif()
  set(opts -static)
  if(TARGET strata_static_pq)
    list(APPEND opts "LINKER:--wrap=getpwuid_r")
  endif()
  # BUILD_INTERFACE: the installed package adds them from the consumer's own
  # STRATA_STATIC_LINK (StrataConfig.cmake).
  get_target_property(imported ${target} IMPORTED)
  if(imported)
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_OPTIONS ${opts})
  else()
    foreach(opt ${opts})
      set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_OPTIONS
                   "$<BUILD_INTERFACE:${opt}>")
    endforeach()
  endif()
endfunction()
