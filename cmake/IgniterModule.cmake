# igniter_module(NAME sources... [DEPENDS modules/targets...])
# Declares the static library igniter_NAME from src/NAME, with the public headers in include/.
function(igniter_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_library(igniter_${name} STATIC ${ARG_SOURCES})
  target_include_directories(igniter_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                             PRIVATE ${PROJECT_SOURCE_DIR}/src)
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
