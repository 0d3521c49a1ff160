# Thin wrapper over Meson: the two README commands and a few helpers.
#   make run     build and run the main job on its embedded default
#   make check   build and run every test suite, then again under ASan+UBSan
#   make bench   print the BENCH figures
#   make sim-long  thousands of simulated worlds (every scenario, every fault)
#   make fuzz    run each libFuzzer target for a bounded time

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = $(notdir $(wildcard fuzz/corpus/*))
MESON      ?= meson
NINJA      ?= ninja

SIM_SEEDS ?= 500

.PHONY: all deps build run check test test-asan bench sim-long fuzz format clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja:
	@./scripts/deps.sh
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Dwerror=true

$(ASAN_BUILD)/build.ninja:
	@./scripts/deps.sh
	CC=clang $(MESON) setup $(ASAN_BUILD) --buildtype=debug -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false

build: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

# The main job on its defaults (exit 0: every page verified), then the same
# under policy none, where the watchdog must find the deadlock (exit 3).
run: build
	./$(BUILD)/lifeboat run
	@echo
	@echo "make run: now the same job under --policy none, which has no reserve:"
	@echo "make run: the watchdog is expected to report a deadlock (exit status 3)."
	@./$(BUILD)/lifeboat run --policy none --report $(BUILD)/run-none-report.txt; rc=$$?; \
	if [ $$rc -eq 3 ]; then \
		echo "make run: deadlock detected under --policy none, as expected (full report: $(BUILD)/run-none-report.txt)"; \
	elif [ $$rc -eq 0 ]; then \
		echo "make run: --policy none got through this time (the race was won); the deadlock is shown deterministically by tests/sim/test_matrix.c"; \
	else \
		echo "make run: unexpected exit status $$rc"; exit 1; \
	fi

test: build
	$(MESON) test -C $(BUILD) --print-errorlogs

test-asan: $(ASAN_BUILD)/build.ninja
	$(NINJA) -C $(ASAN_BUILD)
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MESON) test -C $(ASAN_BUILD) --print-errorlogs

check: test test-asan
	@./scripts/summary.sh $(BUILD) $(ASAN_BUILD)

bench: build
	./$(BUILD)/lifeboat bench
	./$(BUILD)/lifeboat sim --bench
	./scripts/bench-net.sh $(BUILD)
	./scripts/bench-tcploss.sh $(BUILD)
	./scripts/bench-storage.sh $(BUILD)
	./scripts/bench-iscsi.sh $(BUILD)
	./scripts/bench-nfs.sh $(BUILD)

# SIM_SEEDS seeds of each of the 17 scenarios (8500 worlds by default;
# frags6-nbd runs near 1x virtual time),
# then the allocation-failure sweep of every scenario; each prints its
# "N passed, N failed" line.
sim-long: build
	./$(BUILD)/lifeboat sim --seeds $(SIM_SEEDS) --first-seed 100000 \
		--json $(BUILD)/sim-long.json
	@for s in swap-nbd swap-aoe mmap-nbd mmap-aoe write-nbd write-aoe \
		mixed-nbd mixed-aoe swap-nfs mmap-nfs write-nfs mixed-nfs \
		swap-iscsi mmap-iscsi write-iscsi mixed-iscsi; do \
		./$(BUILD)/lifeboat sim --sites --scenario $$s || exit 1; \
	done

$(FUZZ_BUILD)/build.ninja:
	@./scripts/deps.sh
	CC=clang $(MESON) setup $(FUZZ_BUILD) --buildtype=debugoptimized \
		-Dwerror=true -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false

# Each target runs FUZZ_SECONDS; new inputs land in $(FUZZ_BUILD)/corpus/,
# the committed corpus in fuzz/corpus/ seeds it (merge finds with -merge=1).
fuzz: $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		./$(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 $(FUZZ_BUILD)/corpus/$$t \
			fuzz/corpus/$$t 2>&1 | tail -n 12 || exit 1; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
