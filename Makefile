# The two commands of the README:
#   make demo   install what is missing, build, start the demo server
#   make test   install what is missing, build, run every test (plain and ASan+UBSan builds)
JOBS ?= $(shell nproc)
PORT ?= 3000

.PHONY: demo test setup setup-test build build-asan build-release format clean

# The demo (examples/posts): PORT, DATA_DIR (./data) and IGNITER_STORE (memory, redis://...) change it.
demo: setup build-release
	@PORT=$(PORT) ./build/release/examples/posts/posts

# The sanitizer pass runs the C++ suites; the JS and browser suites run once, in the plain build.
test: setup-test build build-asan
	ctest --test-dir build/dev --output-on-failure -j $(JOBS)
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -LE "js|browser|bench"

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

build:
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

build-asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

build-release:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target posts

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build

# Benchmarks (bench/): every scenario against igniter-cpp, Igniter.js, nginx+Nchan and a bare C loop,
# written to bench/RESULTS.md; bench-quick is the minute-long smoke of the same code.
.PHONY: bench bench-quick
bench:
	@bench/run.sh

bench-quick:
	@bench/run.sh --quick

# The soak (soak/, docs/soak.md): the release demo under a mixed hostile load, on the memory store and
# then on the Redis store (a redis-server of its own), SOAK_MINUTES of load each (fractions allowed),
# plus about a minute of warm-up. Fails if an event was lost or memory/descriptors did not come back.
SOAK_MINUTES ?= 10
.PHONY: soak
soak:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target posts
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS) --target igniter_soak
	./build/dev/soak/igniter_soak --server build/release/examples/posts/posts --store memory --minutes $(SOAK_MINUTES)
	./build/dev/soak/igniter_soak --server build/release/examples/posts/posts --store redis --minutes $(SOAK_MINUTES)
