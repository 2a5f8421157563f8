# Installs libstrata, its headers, strata-bundle, the CMake package
# (find_package(Strata): strata::strata, strata::bundle, strata_add_migrations)
# and strata.pc.
include(CMakePackageConfigHelpers)

set(STRATA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Strata)
set(install_targets strata)
if(TARGET strata-bundle)
  list(APPEND install_targets strata-bundle)
endif()
install(TARGETS ${install_targets} EXPORT StrataTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/strata)
install(EXPORT StrataTargets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR})
# The export names the bundler strata::strata-bundle; the config adds strata::bundle.
configure_package_config_file(cmake/StrataConfig.cmake.in
  ${PROJECT_BINARY_DIR}/StrataConfig.cmake INSTALL_DESTINATION ${STRATA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/StrataConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/StrataConfig.cmake
              ${PROJECT_BINARY_DIR}/StrataConfigVersion.cmake
              cmake/StrataMigrations.cmake
        DESTINATION ${STRATA_CMAKE_DIR})

set(STRATA_PC_REQUIRES_PRIVATE "zlib")
configure_file(cmake/strata.pc.in ${PROJECT_BINARY_DIR}/strata.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/strata.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
