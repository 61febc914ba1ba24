# Installs the library and a CMake package so users can find_package(KokkosRoPE).
include(CMakePackageConfigHelpers)

set(krope_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/KokkosRoPE)
install(TARGETS krope EXPORT KokkosRoPETargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/krope DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/lib/include/krope/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/krope)
install(EXPORT KokkosRoPETargets NAMESPACE KokkosRoPE:: DESTINATION ${krope_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/KokkosRoPEConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/KokkosRoPEConfig.cmake
                              INSTALL_DESTINATION ${krope_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/KokkosRoPEConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/KokkosRoPEConfig.cmake
              ${PROJECT_BINARY_DIR}/KokkosRoPEConfigVersion.cmake DESTINATION ${krope_cmake_dir})
