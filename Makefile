# Thin wrapper over Meson: the two README commands and a few helpers.
#   make run     build and run the main job on its embedded default
#   make check   build and run every test suite, then again under ASan+UBSan
#   make bench   print the BENCH figures
#   make fuzz    run each libFuzzer target for a bounded time

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
NINJA      ?= ninja

.PHONY: all deps build run check test test-asan bench fuzz format clean

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

run: build
	./$(BUILD)/lifeboat mm --verbose

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

fuzz:
	@echo "fuzz: no libFuzzer targets yet (they arrive with the parsers)"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
