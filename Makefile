# Contact-center engine: build, test, run.
#   make / make build   every service into build/bin (-O2 -g)
#   make test           unit tests under ASan+UBSan, system tests, compose check
#   make test-asan      only the C unit tests under ASan+UBSan
#   make check-deploy   deploy/ only: kustomize overlays, schemas, promtool, dashboard
#   make test-fuzz      every libFuzzer target for FUZZ_TEST_S seconds (in make test)
#   make fuzz           every libFuzzer target for FUZZ_S seconds (docs/fuzzing.md)
#   make bench          benchmarks (bench/), then routing with 1, 2, 3 routers (bench-scale)
#   make soak           the chaos soak, SOAK_S seconds (default 180); report in docs/soak.md
#   make sim            the contact-center simulator (tools/ccsim, docs/ccsim.md)
#   make screenshots    the web desktop's main screens into docs/screenshots/ (docs/desktop.md)
#   make up / down / reset   run the whole system locally (data under CC_RUN_DIR, default .run/)
#   make deps           install every Debian package needed (as root)

SERVICES := agent-registry skill-router chat-gateway call-router crm-sync api-gateway
PKGS     := libnats libprotobuf-c hiredis libmicrohttpd libcjson libsodium libcurl
PYTHON   := /usr/bin/python3

BUILD    ?= build
SAN      ?=
SANFLAGS := -fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
            $(if $(FUZZ),-fsanitize=fuzzer-no-link)
OPT      := $(if $(SAN),-O1 $(SANFLAGS),-O2)
CFLAGS   := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wstrict-prototypes -Wwrite-strings \
            -Werror -Icommon -Ibench/lib -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  := $(if $(SAN),$(SANFLAGS))
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

PROTOS     := $(wildcard proto/cc/v1/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
PROTO_OBJ  := $(PROTO_C:.c=.o)
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) \
              $(patsubst %.lua,$(BUILD)/gen/lua/%.o,$(wildcard common/*.lua))
LIBCC      := $(BUILD)/libcc.a
BINS       := $(addprefix $(BUILD)/bin/,$(SERVICES))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
IT_SRC     := $(wildcard tests/integration/it_*.c)
IT_BINS    := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(IT_SRC))
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_LIB  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/lib/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all build asan test test-unit test-asan test-system test-compose bench up down reset deps clean
.SECONDARY:

all build: $(BINS) $(UNIT_BINS) $(IT_BINS) $(BENCH_BINS)

# Generated protobuf-c code lives in the build directory, never in git.
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -Iproto $<

# Lua scripts and web assets are embedded as C strings: foo.lua -> const char foo_lua[].
$(BUILD)/gen/lua/%.c: %.lua tools/embed.sh common/agent_cas.lua
	@mkdir -p $(dir $@)
	sh tools/embed.sh $< $@
$(BUILD)/gen/asset/%.c: % tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $< $@
$(BUILD)/gen/asset/%.o: $(BUILD)/gen/asset/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(PROTO_C) | $(PROTO_C:.c=.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

$(LIBCC): $(COMMON_OBJ) $(PROTO_OBJ)
	$(AR) rcs $@ $^

# A service is every .c and .lua under services/<name>/, linked with libcc.
define service_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard services/$(1)/*.c)) \
                   $(patsubst %.lua,$(BUILD)/gen/lua/%.o,$(wildcard services/$(1)/*.lua)) \
                   $(patsubst %,$(BUILD)/gen/asset/%.o,$(wildcard services/$(1)/web/*)) $(LIBCC)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(s))))

$(BUILD)/gen/lua/%.o: $(BUILD)/gen/lua/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# chat-gateway's provider layer is pure functions: its test links those objects too.
CHAT_PROVIDER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard services/chat-gateway/provider*.c))
$(BUILD)/obj/tests/unit/test_chat_providers.o: CFLAGS += -Iservices/chat-gateway
$(BUILD)/tests/test_chat_providers: $(BUILD)/obj/tests/unit/test_chat_providers.o \
                                    $(CHAT_PROVIDER_OBJ) $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# crm-sync's pure parts (OData, answers, names, record fields, webhook signature) likewise.
CRM_PURE_OBJ := $(patsubst %,$(BUILD)/obj/services/crm-sync/%.o,odata names recmap webhook)
$(BUILD)/obj/tests/unit/test_crm_odata.o: CFLAGS += -Iservices/crm-sync
$(BUILD)/tests/test_crm_odata: $(BUILD)/obj/tests/unit/test_crm_odata.o $(CRM_PURE_OBJ) $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Integration tests need real servers: tests/system starts them and runs these.
$(BUILD)/tests/it_%: $(BUILD)/obj/tests/integration/it_%.o $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BENCH_LIB) $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The contact-center simulator (docs/ccsim.md): make sim [SIM_SCENARIO=...] [SIM_ARGS=...]
SIM_SCENARIO ?= tools/ccsim/scenarios/mmc.json
CCSIM_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/ccsim/*.c))
ifneq ($(CCSIM_OBJ),)
all build: $(BUILD)/bin/ccsim
endif
$(BUILD)/bin/ccsim: $(CCSIM_OBJ) $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# its pure modules (scenario, workload, theory) have a unit test of their own
$(BUILD)/obj/tests/unit/test_ccsim.o: CFLAGS += -Itools/ccsim
$(BUILD)/tests/test_ccsim: $(BUILD)/obj/tests/unit/test_ccsim.o \
                           $(patsubst %,$(BUILD)/obj/tools/ccsim/%.o,scenario workload theory) $(LIBCC)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

.PHONY: sim
sim: build
	CC_BIN_DIR=$(abspath $(BUILD))/bin $(PYTHON) tools/ccsim/run.py $(SIM_ARGS) $(SIM_SCENARIO)

# The web desktop in headless Chromium, one PNG per main screen (docs/desktop.md).
.PHONY: screenshots
screenshots: build
	CC_BIN_DIR=$(abspath $(BUILD))/bin $(PYTHON) tests/system/screenshots.py docs/screenshots

asan:
	$(MAKE) BUILD=build/asan SAN=1 build

# --- fuzzing (docs/fuzzing.md) -------------------------------------------------
# libFuzzer targets: tests/fuzz/<target>.c, seed corpus tests/fuzz/<target>/.
# Built with clang under ASan+UBSan (make deps installs clang and its runtime)
# into build/fuzz/fuzz/<target>; new inputs go to build/fuzz/corpus/<target>,
# crashes to build/fuzz/artifacts/. Each target links the real parsers of the
# services (their pure objects) and libcc.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZ_BINS    := $(addprefix build/fuzz/fuzz/,$(FUZZ_TARGETS))
FUZZ_S       ?= 600
FUZZ_TEST_S  ?= 9
FUZZ_CC      ?= clang
FUZZ_DEPS_webhook  := $(CHAT_PROVIDER_OBJ)
FUZZ_DEPS_answers  := $(CHAT_PROVIDER_OBJ)
FUZZ_DEPS_webchat  := $(BUILD)/obj/services/chat-gateway/webchat_body.o
FUZZ_DEPS_pbx      := $(BUILD)/obj/services/call-router/pbx_body.o
FUZZ_DEPS_bus      := $(BUILD)/obj/services/agent-registry/pbmerge.o
FUZZ_DEPS_crm      := $(CRM_PURE_OBJ)
FUZZ_INC := -Iservices/chat-gateway -Iservices/call-router -Iservices/agent-registry -Iservices/crm-sync

$(BUILD)/obj/tests/fuzz/%.o: CFLAGS += $(FUZZ_INC)
# the bus target's list of every message type, from the generated headers
$(BUILD)/obj/tests/fuzz/bus.o: $(BUILD)/gen/fuzz_types.h
$(BUILD)/gen/fuzz_types.h: $(PROTO_C:.c=.h)
	{ for h in $(patsubst $(BUILD)/gen/%,%,$^); do echo "#include \"$$h\""; done; \
	  echo "static const ProtobufCMessageDescriptor *const bus_types[] = {"; \
	  sed -n 's/^extern const ProtobufCMessageDescriptor \(cc__v1__[a-z0-9_]*__descriptor\);$$/    \&\1,/p' $^; \
	  echo "};"; } > $@
define fuzz_rule
$(BUILD)/fuzz/$(1): $(BUILD)/obj/tests/fuzz/$(1).o $(FUZZ_DEPS_$(1)) $(LIBCC)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz-build fuzz test-fuzz
fuzz-build:
	$(MAKE) BUILD=build/fuzz SAN=1 FUZZ=1 CC=$(FUZZ_CC) $(FUZZ_BINS)

# Runs every target for $(1) seconds on its seeds plus what earlier runs found;
# the first failure (crash, leak, UB, timeout) stops the run.
define fuzz_run
	@mkdir -p build/fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus/$$t; echo "== fuzz $$t ($(1) s)"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/fuzz/fuzz/$$t \
	    -max_total_time=$(1) -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/artifacts/$$t- build/fuzz/corpus/$$t tests/fuzz/$$t \
	    2>build/fuzz/$$t.log || { tail -n 60 build/fuzz/$$t.log; exit 1; }; \
	  grep -E '^#[0-9]+[[:space:]]+DONE' build/fuzz/$$t.log; done
endef

test-fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_TEST_S))

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_S))

# --- tests -------------------------------------------------------------------
test: build asan test-asan test-fuzz test-system test-compose

test-unit: build
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

test-asan: asan
	@for t in $(patsubst $(BUILD)/%,build/asan/%,$(UNIT_BINS)); do echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1 $$t || exit 1; done

# System tests run the sanitizer build of every service against real
# nats-server and redis-server started on free ports by the fixtures.
# Two pytest-xdist workers, a test file each at a time (a file's tests may share
# one system); harness.free_port gives each worker its own slice of ports.
TEST_WORKERS ?= 2
test-system: build asan
	CC_BIN_DIR=$(CURDIR)/build/asan/bin CC_UNIT_DIR=$(CURDIR)/build/asan/tests \
	  $(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests/system $(PYTEST_ARGS)

# deploy/ alone (docs/deploy.md): overlays render and validate, promtool, dashboard metrics.
.PHONY: check-deploy
check-deploy: asan
	CC_BIN_DIR=$(CURDIR)/build/asan/bin CC_UNIT_DIR=$(CURDIR)/build/asan/tests \
	  $(PYTHON) -m pytest -q tests/system/test_deploy.py

test-compose:
	@if command -v docker-compose >/dev/null; then docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"; \
	else echo "docker-compose not installed (make deps)"; exit 1; fi

bench: build
	$(PYTHON) bench/run.py
	$(PYTHON) bench/scale.py

# skill-router's decisions/s with 1, 2 and 3 replicas alone (docs/scaling.md)
.PHONY: bench-scale
bench-scale: build
	$(PYTHON) bench/scale.py

# The chaos soak (docs/soak.md): the sanitizer build under kill -9 of every piece in turn.
# make test runs it for a minute (tests/system/test_soak.py, CC_TEST_SOAK_S).
SOAK_S ?= 180
.PHONY: soak
soak: asan
	CC_BIN_DIR=$(CURDIR)/build/asan/bin CC_UNIT_DIR=$(CURDIR)/build/asan/tests \
	  $(PYTHON) tests/system/soak.py --seconds $(SOAK_S) --report docs/soak.md

# --- running locally -----------------------------------------------------------
up: build
	bash tools/up.sh

down:
	bash tools/down.sh

# the directory `make up` used: CC_RUN_DIR when set (as tools/up.sh reads it)
RUN_DIR := $(or $(CC_RUN_DIR),.run)
reset: down
	@case "$(abspath $(RUN_DIR))" in /|$(CURDIR)|$(HOME)) \
	  echo "make reset: will not wipe $(RUN_DIR)"; exit 1;; esac
	rm -rf -- "$(RUN_DIR)"

deps:
	sh tools/deps.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
