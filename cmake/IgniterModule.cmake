# igniter_module(NAME sources... [DEPENDS modules/targets...])
# Declares the static library igniter_NAME from src/NAME, with the public headers in include/. Users name
# it igniter::NAME (an alias here, the exported name once installed); it is installed with the package.
function(igniter_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_library(igniter_${name} STATIC ${ARG_SOURCES})
  add_library(igniter::${name} ALIAS igniter_${name})
  set_target_properties(igniter_${name} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(igniter_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
                                             PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # The public headers are C++20: whoever links a module compiles as C++20 at least.
  target_compile_features(igniter_${name} PUBLIC cxx_std_20)
  target_link_libraries(igniter_${name} PUBLIC ${ARG_DEPENDS})
endfunction()

# igniter_test(NAME sources... [DEPENDS targets...] [LABELS labels...])
# A GoogleTest executable whose tests CTest discovers one by one (so they run in parallel).
function(igniter_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPENDS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
