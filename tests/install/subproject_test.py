#!/usr/bin/env python3
"""install.subproject: a parent project that pulls igniter in with add_subdirectory (as FetchContent
does) gets igniter's libraries and nothing else: no tests, examples, benchmarks or JS packages in its
build, no ctest tests, no install rules, and none of igniter's own build settings (warnings, the ccache
launcher) on its targets or igniter's. Its app is compiled as C++20 because igniter's targets ask for it.
Configures the parent only (building it would compile the libraries again with the parent's flags).

Usage: subproject_test.py --cmake CMAKE --ctest CTEST --source-dir SRC --work-dir DIR
"""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys

LIBRARIES = {f"igniter_{m}" for m in ["base", "json", "http", "store", "realtime", "server", "client"]}
CMAKE_OWN = {"all", "clean", "help", "edit_cache", "rebuild_cache", "list_install_components", "install",
             "install/local", "install/strip", "build.ninja", "test"}


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(command):
    print("+", " ".join(str(c) for c in command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout)
        fail(f"{command[0]} exited with {result.returncode}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--ctest", required=True)
    parser.add_argument("--source-dir", type=pathlib.Path, required=True)
    parser.add_argument("--work-dir", type=pathlib.Path, required=True)
    args = parser.parse_args()

    parent = args.work_dir / "parent"
    build = args.work_dir / "parent-build"
    shutil.rmtree(args.work_dir, ignore_errors=True)
    parent.mkdir(parents=True)
    (parent / "CMakeLists.txt").write_text(f"""cmake_minimum_required(VERSION 3.25)
project(parent LANGUAGES CXX)
enable_testing()
add_subdirectory("{args.source_dir}" igniter)
add_executable(app main.cpp)
target_link_libraries(app PRIVATE igniter::server)
""")
    (parent / "main.cpp").write_text("#include <igniter/server/app.hpp>\nint main() { igniter::App app; }\n")
    run([args.cmake, "-S", parent, "-B", build, "-G", "Ninja"])

    # Top-level targets of the build graph: the parent's app, igniter's libraries, CMake's own.
    listing = run([args.cmake, "--build", build, "--target", "help"])
    targets = {line.split(":")[0] for line in listing.splitlines() if line.endswith(": phony")}
    targets = {t for t in targets if "/" not in t or t in CMAKE_OWN}
    extra = targets - LIBRARIES - {f"lib{name}.a" for name in LIBRARIES} - CMAKE_OWN - {"app", "igniter"}
    if extra:
        fail(f"a subproject igniter adds targets beyond its libraries: {sorted(extra)}")
    if not LIBRARIES <= targets:
        fail(f"libraries missing from the parent's build: {sorted(LIBRARIES - targets)}")

    tests = run([args.ctest, "--test-dir", build, "-N"])
    if "Total Tests: 0" not in tests:
        fail(f"a subproject igniter registers tests:\n{tests}")

    install_rules = "\n".join(p.read_text() for p in (build / "igniter").rglob("cmake_install.cmake"))
    if "libigniter" in install_rules or "igniterConfig" in install_rules:
        fail("a subproject igniter installs itself (IGNITER_INSTALL should default to OFF)")

    ninja = (build / "build.ninja").read_text()
    for flag in ["-Wpedantic", "-Wextra", "ccache"]:
        if flag in ninja:
            fail(f"igniter's own build setting {flag} leaks into the parent's build")
    app_flags = re.search(r"build CMakeFiles/app\.dir/main\.cpp\.o:.*?\n((?:  .*\n)*)", ninja)
    if not app_flags or not re.search(r"-std=(gnu|c)\+\+(20|2a)", app_flags.group(1)):
        fail(f"the parent's app is not compiled as C++20: {app_flags and app_flags.group(1)}")
    print(f"PASS: the parent's build has {len(targets)} top-level targets: {sorted(targets)}")


if __name__ == "__main__":
    main()
