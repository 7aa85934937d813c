# What the igniter libraries need, one line each. The build includes this file (find_package, REQUIRED)
# and so does the installed igniterConfig.cmake (find_dependency), so a new dependency of the libraries
# is one line here and nowhere else. Only dependencies of the libraries belong here: the tests', the
# examples' and the benchmarks' are found where they are used.
#
#   igniter_find_package(<find_package arguments, without REQUIRED>)
#   igniter_find_pkg_config(<prefix> <pkg-config module>)   -> imported target PkgConfig::<prefix>

igniter_find_package(Boost 1.81.0 CONFIG COMPONENTS json url)  # >= 1.81: BoostConfigVersion accepts newer
igniter_find_package(Threads)
igniter_find_pkg_config(IGNITER_HIREDIS hiredis)  # Debian's libhiredis-dev has no usable CMake target
igniter_find_pkg_config(IGNITER_URING liburing)  # batched stream writes (Debian: liburing-dev)
igniter_find_package(OpenSSL 3)  # HTTPS in the server and the client (Debian: libssl-dev)
