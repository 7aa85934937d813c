# The two commands of the README:
#   make demo   install what is missing, build, start the demo server
#   make test   install what is missing, build, run every test (plain and ASan+UBSan builds, the
#               ThreadSanitizer hammer of the README example and the demo, and each fuzz target for 15 s)
#   make fuzz   build the libFuzzer targets (fuzz/) and run each for FUZZ_SECONDS (60), two at a time
JOBS ?= $(shell nproc)
PORT ?= 3000

FUZZ_SECONDS ?= 60

.PHONY: demo test setup setup-test build build-asan build-tsan build-release format clean fuzz setup-fuzz build-fuzz

# The demo (examples/posts): PORT, DATA_DIR (./data) and IGNITER_STORE (memory, redis://...) change it.
demo: setup build-release
	@PORT=$(PORT) ./build/release/examples/posts/posts

# The sanitizer pass runs the C++ suites; the JS and browser suites run once, in the plain build.
# The TSan pass (tests/tsan/) runs its hammer tests one at a time: each loads the machine by itself.
test: setup-test build build-asan build-tsan build-fuzz
	ctest --test-dir build/dev --output-on-failure -j $(JOBS)
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -LE "js|browser|bench"
	ctest --test-dir build/tsan --output-on-failure
	ctest --test-dir build/fuzz --output-on-failure -j $(JOBS)

# Fuzzing (fuzz/, docs/fuzzing.md): new inputs go to build/fuzz/corpus/, crashes, leaks, timeouts and
# out-of-memory inputs to build/fuzz/findings/<target>/; the committed crash inputs are replayed too.
fuzz: setup-fuzz build-fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir build/fuzz --output-on-failure -j 2 --timeout $$(( $(FUZZ_SECONDS) + 300 ))

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

setup-fuzz:
	@scripts/setup.sh fuzz

build:
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

build-asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# The README example and the demo under ThreadSanitizer, and the hammer that drives them (tests/tsan/).
build-tsan:
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)

build-fuzz:
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

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

# The scale bench (bench/scale/run.py, RESULTS.md "Scale"): SSE subscribers across many processes on one
# Redis stream, in steps toward 1 000 000 (SCALE_STEPS), until the machine's wall. Loads the whole machine.
SCALE_STEPS ?= 100000,250000,500000,1000000
.PHONY: bench-scale
bench-scale:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target igniter_bench scale_sub
	python3 bench/scale/run.py --bin-dir build/release/bench --out-dir bench/results/scale --steps $(SCALE_STEPS)
# The query cache (bench/cache/run.py, docs/query-cache.md): revalidation round trip at 1 000 and 9 000
# clients on the demo's SQLite list, cache off and on, and the list's requests/s beside Igniter.js.
.PHONY: bench-cache
bench-cache:
	@cmake --preset release >/dev/null && cmake --build --preset release --target bench_loadgen bench_cache_server
	@(cd bench/peers/igniter-js && npm ci --no-audit --no-fund >/dev/null)
	@bench/cache/run.py

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
