# strata_add_pg_test(<name> [LABELS ...] COMMAND <cmd> [args...])
#
# A test on the throwaway PostgreSQL server of the `pg` fixture
# (tests/pg/pg_fixture.sh): it runs with a database of its own
# ("<name>_<pid>", dropped at exit) named by DATABASE_URL and STRATA_PG_DB_URL
# (TCP) and STRATA_PG_DB_SOCKET_URL (unix socket); see tests/pg/pg_env.sh.
# Always labelled `postgres`.
include_guard(GLOBAL)
set(STRATA_PG_ENV_FILE ${PROJECT_BINARY_DIR}/tests/pg/server.env)

function(strata_add_pg_test name)
  if(NOT STRATA_WITH_POSTGRESQL)
    return() # a SQLite-only build has no PostgreSQL backend to test
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LABELS;COMMAND")
  if(NOT arg_COMMAND)
    message(FATAL_ERROR "strata_add_pg_test(${name}): COMMAND is required")
  endif()
  add_test(NAME ${name}
    COMMAND ${STRATA_BASH} ${PROJECT_SOURCE_DIR}/tests/pg/pg_env.sh run ${name} -- ${arg_COMMAND})
  set_tests_properties(${name} PROPERTIES
    FIXTURES_REQUIRED pg
    LABELS "postgres;${arg_LABELS}"
    ENVIRONMENT "STRATA_PG_ENV=${PROJECT_BINARY_DIR}/tests/pg/server.env"
    TIMEOUT 300)
endfunction()
