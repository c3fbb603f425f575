# wasi.mk — the wasm32-wasi build of pagedb (clang-19 + wasi-libc), run from the
# repository root by scripts/build-wasi.sh, which fetches and builds the dependencies and
# passes their prefixes:
#   make -f platform/wasi/wasi.mk SODIUM=<prefix> JANSSON=<prefix> BEARSSL=<prefix> [OUT=build/wasi]
#        [NATIVE_ONLY="test_x test_y"] [all|cli|tests|lib]
# Outputs: $(OUT)/pagedb.wasm (the CLI), $(OUT)/libpagedb.wasm (the library as a reactor
# module, platform/wasi/lib/) and $(OUT)/tests/<test>.wasm for every
# tests/native/test_*.c not named in NATIVE_ONLY. Incremental (-MMD dependency files).
#
# The core is compiled WITHOUT PAGEDB_THREADS: a wasm32-wasi module has one thread, and the
# core's mutex wrappers (core/util.h) become no-ops.

CC      := clang-19
AR      := llvm-ar-19
OUT     ?= build/wasi
SODIUM  ?= $(error SODIUM=<libsodium wasm32-wasi prefix> is required)
JANSSON ?= $(error JANSSON=<jansson wasm32-wasi prefix> is required)
# BearSSL's AES-GCM subset (scripts/build-bearssl.sh wasi): AES-256-GCM without AES-NI.
BEARSSL ?= $(error BEARSSL=<BearSSL wasm32-wasi prefix> is required)
# The native default is 8 MiB; wasm-ld's default (64 KiB) is far too small for tests that
# keep 100 KB buffers on the stack, and an overflow would silently corrupt memory.
STACK   ?= 8388608

TARGET  := --target=wasm32-wasi
comma   := ,
# core/cflags.txt and core/sources.txt: the flags and sources every build shares (one per line)
list_file   = $(shell grep -v '^[[:space:]]*\(\#\|$$\)' $(1))
CORE_CFLAGS := $(call list_file,core/cflags.txt)
CORE_DEFS   := $(filter -D%,$(CORE_CFLAGS))
# -mbulk-memory: memcpy/memmove/memset calls compile to the memory.copy/memory.fill
# instructions (WebAssembly 2.0; node:wasi, wasmtime and wazero run them) instead of calls to
# wasi-libc's byte loops: range reads under node:wasi took 21 % of their time in memcpy
# (bench/results/goals-round2.md, goal 6).
CFLAGS  := $(TARGET) -O2 -mbulk-memory $(filter-out -D%,$(CORE_CFLAGS)) -MMD -MP
LDFLAGS := $(TARGET) -Wl,-z,stack-size=$(STACK)

CORE_SRC    := $(call list_file,core/sources.txt)
WASI_SRC    := $(wildcard platform/wasi/*.c)
CLI_SRC     := $(wildcard cli/*.c)
SUPPORT_SRC := $(wildcard tests/native/support/*.c)
TESTS       := $(filter-out $(NATIVE_ONLY),$(basename $(notdir $(wildcard tests/native/test_*.c))))

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

CORE_OBJ    := $(call obj,$(CORE_SRC) $(WASI_SRC))
CLI_OBJ     := $(call obj,$(CLI_SRC))
SUPPORT_OBJ := $(call obj,$(SUPPORT_SRC))
TEST_WASM   := $(patsubst %,$(OUT)/tests/%.wasm,$(TESTS))

.PHONY: all cli tests lib
.SECONDARY:  # keep intermediate objects (incremental rebuilds)
all: cli tests lib
cli: $(OUT)/pagedb.wasm
tests: $(TEST_WASM)
lib: $(OUT)/libpagedb.wasm

# core/ and platform/wasi/: the library (the WASI VFS is part of it on this target).
# -DNDEBUG: the core is a release build, like the native Release one (the debug validators
# of pager.c/cache.c run in the native ASan suite); tests/ and cli/ keep their own flags.
$(OUT)/obj/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DNDEBUG $(CORE_DEFS) -Icore/include -Icore -I$(SODIUM)/include -I$(BEARSSL)/include -c $< -o $@
$(OUT)/obj/platform/wasi/%.o: platform/wasi/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_DEFS) -Icore/include -c $< -o $@
$(OUT)/libpagedb.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# cli/: pagedb.wasm (jansson built for wasm32-wasi; the CLI picks the WASI VFS under __wasi__).
$(OUT)/obj/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_DEFS) -Icore/include -Iplatform/wasi -I$(JANSSON)/include -c $< -o $@
$(OUT)/pagedb.wasm: $(CLI_OBJ) $(OUT)/libpagedb.a
	$(CC) $(LDFLAGS) -Wl,--strip-debug $^ $(JANSSON)/lib/libjansson.a $(SODIUM)/lib/libsodium.a $(BEARSSL)/lib/libbearssl.a -o $@

# libpagedb.wasm: the library as a WASI reactor module (platform/wasi/lib/pagedb_reactor.h
# gives a host's rules). Exports: these pagedb.h functions, malloc/free, pagedb_wasi_open.
LIBRARY_EXPORTS := malloc free pagedb_wasi_open pagedb_close pagedb_strerror pagedb_errdetail \
  pagedb_txn_begin pagedb_txn_commit pagedb_txn_abort pagedb_table_open pagedb_table_drop \
  pagedb_get pagedb_put pagedb_del pagedb_verify pagedb_cursor_open pagedb_cursor_seek \
  pagedb_cursor_next pagedb_cursor_prev pagedb_cursor_get pagedb_cursor_close
$(OUT)/obj/platform/wasi/lib/%.o: platform/wasi/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CORE_DEFS) -Icore/include -Iplatform/wasi -c $< -o $@
$(OUT)/libpagedb.wasm: $(OUT)/obj/platform/wasi/lib/reactor.o $(OUT)/libpagedb.a
	$(CC) $(LDFLAGS) -mexec-model=reactor -Wl,--strip-debug $(addprefix -Wl$(comma)--export=,$(LIBRARY_EXPORTS)) \
	  $^ $(SODIUM)/lib/libsodium.a $(BEARSSL)/lib/libbearssl.a -o $@

# tests/native/: tests/native/support/wasi/ comes first so that <pthread.h> (single-thread
# mutex no-ops) and "pagedb_posix.h" (pagedb_vfs_posix() = the WASI VFS) resolve there.
TEST_INC := -Itests/native/support/wasi -Itests/native/support -Icore -Icore/include \
            -Iplatform/wasi -I$(SODIUM)/include -I$(JANSSON)/include
# clock() (CPU-time reports) and getpid() exist in wasi-libc only as opt-in emulations.
TEST_EMUL := -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID
TEST_LIBS := -lwasi-emulated-process-clocks -lwasi-emulated-getpid
$(OUT)/obj/tests/native/%.o: tests/native/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -D_GNU_SOURCE $(TEST_EMUL) $(TEST_INC) -c $< -o $@
$(OUT)/libtestsupport.a: $(SUPPORT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
$(OUT)/tests/%.wasm: $(OUT)/obj/tests/native/%.o $(OUT)/libtestsupport.a $(OUT)/libpagedb.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(SODIUM)/lib/libsodium.a $(BEARSSL)/lib/libbearssl.a \
	  $(JANSSON)/lib/libjansson.a $(TEST_LIBS) -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)
