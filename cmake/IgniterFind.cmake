# The two commands cmake/IgniterDependencies.cmake is written in. In the build (IGNITER_FIND_DEPENDENCY
# unset) a missing dependency stops the configuration with find_package's message. In the installed
# igniterConfig.cmake (IGNITER_FIND_DEPENDENCY set) it makes find_package(igniter) report igniter as not
# found, naming the missing dependency (find_dependency returns from IgniterDependencies.cmake then).
include(CMakeFindDependencyMacro)

macro(igniter_find_package)
  if(IGNITER_FIND_DEPENDENCY)
    find_dependency(${ARGV})
  else()
    find_package(${ARGV} REQUIRED)
  endif()
endmacro()

macro(igniter_find_pkg_config prefix module)
  if(IGNITER_FIND_DEPENDENCY)
    find_dependency(PkgConfig)
    if(NOT TARGET PkgConfig::${prefix})
      pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    endif()
    if(NOT TARGET PkgConfig::${prefix})
      set(igniter_NOT_FOUND_MESSAGE
          "igniter could not be found because pkg-config found no '${module}' (install its development package, e.g. lib${module}-dev on Debian)")
      set(igniter_FOUND FALSE)
      return()
    endif()
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${module})
  endif()
endmacro()
