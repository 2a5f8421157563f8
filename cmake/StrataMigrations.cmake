# strata_add_migrations(<target> NAMESPACE <ns> DIR <dir>
#                       [NO_VERIFY] [DIALECT sqlite|postgresql|all]
#                       [VERIFY_POSTGRES <url>|auto] [SCHEMA <schema.sql>]
#                       [SCHEMA_POSTGRESQL <schema.sql>]
#                       [NO_LINT] [LINT_RULES <rule>=error|warning|off ...])
#
# Embeds the migrations in <dir> into <target> as `strata_bundle_<ns>`
# (declared in the generated header strata_bundle_<ns>.h) and links
# strata::strata. The bundle is regenerated when a .sql file or strata.lock
# changes, is added or removed; invalid migrations stop the build with
# compiler-style errors.
#
# The build also verifies them (strata-bundle generate --verify, see
# `strata-bundle verify --help`): the SQLite chain replayed up, down and up
# with a row in every table, every PostgreSQL statement parsed; a finding
# stops the build at file:line:col. NO_VERIFY (or -DSTRATA_VERIFY=OFF for
# every target) turns that off; DIALECT limits the checks to one database's
# sections (a module that never runs on PostgreSQL: sqlite); VERIFY_POSTGRES
# (or -DSTRATA_VERIFY_POSTGRES=...) adds the PostgreSQL replay on a server
# URL or on a scratch cluster of the installed server (auto); SCHEMA
# compares the final schema with a schema.sql. Works in-tree and from
# find_package(Strata).
#
# Verify lints too (`strata-bundle lint --help`, docs/lint.md): an
# error-level finding stops the build, warnings are printed, and the
# migrations that drop data without a reason in their header are recorded in
# the bundle, which production then does not apply on its own. LINT_RULES
# sets rules' severities; NO_LINT (or -DSTRATA_LINT=OFF for every target)
# turns lint off, and with it that record.
#
# Cross-compiling: set STRATA_BUNDLE_EXECUTABLE to a strata-bundle built for
# the host.
include_guard(GLOBAL)

function(strata_add_migrations target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_VERIFY;NO_LINT"
                        "NAMESPACE;DIR;DIALECT;VERIFY_POSTGRES;SCHEMA;SCHEMA_POSTGRESQL"
                        "LINT_RULES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "strata_add_migrations: unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "strata_add_migrations: '${target}' is not a target")
  endif()
  if(NOT arg_NAMESPACE OR NOT arg_DIR)
    message(FATAL_ERROR "strata_add_migrations(${target} NAMESPACE <ns> DIR <dir>): "
                        "NAMESPACE and DIR are required")
  endif()
  # The rule of runtime/src/format/names.h (strata-bundle applies it too),
  # checked here as well so that a bad name fails at configure time.
  string(LENGTH "${arg_NAMESPACE}" ns_len)
  if(NOT arg_NAMESPACE MATCHES "^[a-z][a-z0-9_]*$" OR ns_len GREATER 32)
    message(FATAL_ERROR "strata_add_migrations: invalid NAMESPACE '${arg_NAMESPACE}': use 1-32 "
                        "of [a-z0-9_], starting with a letter")
  endif()
  get_filename_component(dir "${arg_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT IS_DIRECTORY "${dir}")
    message(FATAL_ERROR "strata_add_migrations: DIR '${dir}' is not a directory")
  endif()

  if(STRATA_BUNDLE_EXECUTABLE)
    set(tool "${STRATA_BUNDLE_EXECUTABLE}")
    set(tool_dep "")
  elseif(TARGET strata::bundle)
    set(tool "$<TARGET_FILE:strata::bundle>")
    set(tool_dep strata::bundle)
  else()
    message(FATAL_ERROR "strata_add_migrations: no strata-bundle: find_package(Strata) or set "
                        "STRATA_BUNDLE_EXECUTABLE")
  endif()

  # CONFIGURE_DEPENDS: adding or removing a file re-runs the glob at build time.
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql" "${dir}/strata.lock")
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/strata/${target}")
  set(out_c "${out_dir}/strata_bundle_${arg_NAMESPACE}.c")
  set(out_h "${out_dir}/strata_bundle_${arg_NAMESPACE}.h")
  set(source_dir_args "")
  if(STRATA_EMBED_SOURCE_DIR OR NOT DEFINED STRATA_EMBED_SOURCE_DIR)
    # Two expressions: a ';' inside one would split it.
    set(dev "$<NOT:$<CONFIG:Release,MinSizeRel,RelWithDebInfo>>")
    set(source_dir_args "$<${dev}:--source-dir>" "$<${dev}:${dir}>")
  endif()
  set(verify_args "")
  set(verify_deps "")
  if(NOT arg_NO_VERIFY AND (STRATA_VERIFY OR NOT DEFINED STRATA_VERIFY))
    list(APPEND verify_args --verify)
    if(arg_DIALECT)
      list(APPEND verify_args --dialect ${arg_DIALECT})
    endif()
    if(NOT arg_VERIFY_POSTGRES AND STRATA_VERIFY_POSTGRES)
      set(arg_VERIFY_POSTGRES "${STRATA_VERIFY_POSTGRES}")
    endif()
    if(arg_VERIFY_POSTGRES)
      list(APPEND verify_args --postgres "${arg_VERIFY_POSTGRES}")
    endif()
    foreach(kind SCHEMA SCHEMA_POSTGRESQL)
      if(arg_${kind})
        get_filename_component(f "${arg_${kind}}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
        string(TOLOWER "--${kind}" opt)
        string(REPLACE "_" "-" opt "${opt}")
        list(APPEND verify_args ${opt} "${f}")
        list(APPEND verify_deps "${f}")
      endif()
    endforeach()
    if(arg_NO_LINT OR (DEFINED STRATA_LINT AND NOT STRATA_LINT))
      if(arg_LINT_RULES)
        message(FATAL_ERROR "strata_add_migrations(${target}): LINT_RULES with NO_LINT (or "
                            "STRATA_LINT=OFF): drop one")
      endif()
      list(APPEND verify_args --no-lint)
    endif()
    foreach(rule ${arg_LINT_RULES})
      list(APPEND verify_args --rule "${rule}")
    endforeach()
  elseif(arg_DIALECT OR arg_VERIFY_POSTGRES OR arg_SCHEMA OR arg_SCHEMA_POSTGRESQL OR
         arg_LINT_RULES)
    message(FATAL_ERROR "strata_add_migrations(${target}): DIALECT, VERIFY_POSTGRES, SCHEMA and "
                        "LINT_RULES are verify options: drop NO_VERIFY (or STRATA_VERIFY=OFF) or "
                        "them")
  endif()
  file(MAKE_DIRECTORY "${out_dir}")
  # The list of files, rewritten only when it changes: a removed file leaves
  # no dependency newer than the bundle, so the list itself must be one.
  list(JOIN sql_files "\n" manifest)
  file(CONFIGURE OUTPUT "${out_dir}/strata_bundle_${arg_NAMESPACE}.files"
       CONTENT "${manifest}\n" @ONLY)
  add_custom_command(
    OUTPUT "${out_c}" "${out_h}"
    COMMAND ${tool} generate --namespace ${arg_NAMESPACE} --out-c "${out_c}" --out-h "${out_h}"
            ${source_dir_args} ${verify_args} "${dir}"
    DEPENDS ${sql_files} "${out_dir}/strata_bundle_${arg_NAMESPACE}.files" ${verify_deps}
            ${tool_dep}
    COMMENT "Bundling migrations: namespace ${arg_NAMESPACE} from ${dir}"
    VERBATIM COMMAND_EXPAND_LISTS)
  target_sources(${target} PRIVATE "${out_c}" "${out_h}")
  target_include_directories(${target} PRIVATE "${out_dir}")
  target_link_libraries(${target} PRIVATE strata::strata)
endfunction()
