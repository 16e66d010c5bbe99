# Makefile - the README's two commands and a few helpers; the build itself is CMake.
#   make demo   install missing Debian packages, build, run the demo
#   make test   install missing Debian packages, build with ASan+UBSan (clang), run every test
#   make fuzz   run the libFuzzer targets for FUZZ_SECONDS each (default 60)
#   make bench  build and run the benchmarks (bench/RESULTS.md says how to read them)
#   make bench-peers  install wrk, Locust, Tsung (deploy/bench-packages.txt), build, run
#               bench/peers/run.sh (easload against them; ~15 min; QUICK=1 for a short run)
#   make test-peers  (root, Debian 12) build, bring up SOGo on loopback, run easload against it
#               (tests/peers/sogo), tear it down; prints the minutes; not part of `make test`
BUILD       ?= build
TEST_BUILD  ?= build-test
BENCH_BUILD ?= build-bench
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test test-peers fuzz bench bench-peers clean

all: build

deps:
	@./deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@./scenarios/demo.sh $(BUILD)/cli/easload

test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DEL_SANITIZE=ON -DEL_FUZZ=ON >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	ctest --test-dir $(TEST_BUILD) --output-on-failure -j$(JOBS)

test-peers: build
	./tests/peers/sogo/test-peers.sh $(BUILD)/cli/easload

fuzz: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DEL_SANITIZE=ON -DEL_FUZZ=ON >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run.sh $(TEST_BUILD)

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DEL_BENCH=ON >/dev/null
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	./bench/run.sh $(BENCH_BUILD)

bench-peers: deps
	@./deploy/install-deps.sh deploy/bench-packages.txt
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DEL_BENCH=ON >/dev/null
	cmake --build $(BENCH_BUILD) -j$(JOBS) --target easload bench_curl_floor
	./bench/peers/run.sh $(BENCH_BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(BENCH_BUILD)
