# Installs libstrata, its headers, strata-bundle, the CMake package
# (find_package(Strata): strata::strata, strata::bundle, strata_add_migrations)
# and strata.pc.
include(CMakePackageConfigHelpers)

set(STRATA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Strata)
set(install_targets strata)
if(TARGET strata-bundle)
  # Exported as strata::bundle, the name strata_add_migrations() looks for.
  set_target_properties(strata-bundle PROPERTIES EXPORT_NAME bundle)
  list(APPEND install_targets strata-bundle)
endif()
# Every public header is installed, from the directory: a PUBLIC_HEADER list
# would be resolved relative to this file's directory, not runtime/.
set_target_properties(strata PROPERTIES PUBLIC_HEADER "")
install(TARGETS ${install_targets} EXPORT StrataTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/strata
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT StrataTargets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR})
# The libraries libstrata links, found again in the consumer's find_package
# (where the link interface names them) and listed in strata.pc. Known
# imported targets: (target, find_package name, pkg-config name).
set(STRATA_FIND_DEPENDENCIES "")
set(STRATA_PC_DEPENDS "")
get_target_property(strata_iface strata INTERFACE_LINK_LIBRARIES)
get_target_property(strata_links strata LINK_LIBRARIES)
foreach(dep "ZLIB::ZLIB;ZLIB;zlib" "SQLite::SQLite3;SQLite3;sqlite3"
            "PostgreSQL::PostgreSQL;PostgreSQL;libpq" "Threads::Threads;Threads;-")
  list(GET dep 0 dep_target)
  list(GET dep 1 dep_package)
  list(GET dep 2 dep_pc)
  string(FIND "${strata_iface}" "${dep_target}" in_iface)
  string(FIND "${strata_links};${strata_iface}" "${dep_target}" in_links)
  if(in_iface GREATER -1)
    string(APPEND STRATA_FIND_DEPENDENCIES "find_dependency(${dep_package})\n")
  endif()
  if(in_links GREATER -1 AND NOT dep_pc STREQUAL "-") # threads: no .pc, a flag below
    list(APPEND STRATA_PC_DEPENDS ${dep_pc})
  endif()
endforeach()
list(REMOVE_DUPLICATES STRATA_PC_DEPENDS)
configure_package_config_file(cmake/StrataConfig.cmake.in
  ${PROJECT_BINARY_DIR}/StrataConfig.cmake INSTALL_DESTINATION ${STRATA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/StrataConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/StrataConfig.cmake
              ${PROJECT_BINARY_DIR}/StrataConfigVersion.cmake
              cmake/StrataMigrations.cmake
              cmake/StrataStatic.cmake
              cmake/strata_static_pq.c
        DESTINATION ${STRATA_CMAKE_DIR})

# strata.pc is relocatable: paths are relative to ${pcfiledir}, so the tree
# works wherever `cmake --install --prefix` puts it. A static libstrata needs
# its dependencies on every link, so they are public there (plain
# `pkg-config --libs strata` links) and private for a shared one.
list(JOIN STRATA_PC_DEPENDS " " STRATA_PC_DEPENDS)
# libpq loaded with dlopen (STRATA_PQ_DLOPEN) is no dependency; dlopen is,
# where it is not in libc.
set(STRATA_PC_LIBS "")
foreach(lib ${STRATA_DL_LIBS})
  string(APPEND STRATA_PC_LIBS " -l${lib}")
endforeach()
if(CMAKE_THREAD_LIBS_INIT) # empty where threads are in libc
  string(APPEND STRATA_PC_LIBS " ${CMAKE_THREAD_LIBS_INIT}")
endif()
if(BUILD_SHARED_LIBS)
  set(STRATA_PC_REQUIRES "")
  set(STRATA_PC_REQUIRES_PRIVATE "${STRATA_PC_DEPENDS}")
  set(STRATA_PC_CFLAGS "")
  set(STRATA_PC_LIBS "")
else()
  set(STRATA_PC_REQUIRES "${STRATA_PC_DEPENDS}")
  set(STRATA_PC_REQUIRES_PRIVATE "")
  set(STRATA_PC_CFLAGS " -DSTRATA_STATIC")
endif()
function(strata_pc_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
file(RELATIVE_PATH STRATA_PC_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" STRATA_PC_PREFIX "\${pcfiledir}/${STRATA_PC_PREFIX}")
strata_pc_path(STRATA_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
strata_pc_path(STRATA_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
strata_pc_path(STRATA_PC_BINDIR "${CMAKE_INSTALL_BINDIR}")
configure_file(cmake/strata.pc.in ${PROJECT_BINARY_DIR}/strata.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/strata.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
