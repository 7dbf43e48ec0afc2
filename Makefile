# minpaas — one Makefile, objects under build/, header dependencies by -MMD.
#
#   make            build every binary into build/
#   make run        install what is missing, build, start minpaas (foreground)
#   make test       install what is missing, build, run unit and e2e tests
#   make SANITIZE=address,undefined   sanitizer build (build-asan/)
#   make install    the server's binaries and the client under PREFIX
#   make install-client   only the client, as `minpaas` (a developer's machine)

CC      ?= cc
PKGS     = libssh libgit2 libcurl jansson lmdb libarchive
WARN     = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ifneq ($(CI),)
WERROR   = -Werror
endif
ifneq ($(SANITIZE),)
B       ?= build-asan
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
else
B       ?= build
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS = -D_GNU_SOURCE -I. -I$(B)/gen $(PKG_CFLAGS)
ALL_CFLAGS = -std=c11 $(CFLAGS) $(WARN) $(WERROR) $(SANFLAGS) -MMD -MP
LDLIBS   = $(PKG_LIBS) -lpthread
LDFLAGS += $(SANFLAGS)

# The library every binary links: shared helpers, state, the app rules,
# Docker client, release logic, runtime detection and the command table
# (cli/ but main.c).
LIB_SRC  = $(wildcard common/*.c state/*.c apps/*.c builder/*.c runtimes/*.c) \
           $(filter-out cli/main.c,$(wildcard cli/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/runtime_files.o
LIB      = $(B)/libminpaas.a

BINS     = $(B)/minpaas $(B)/minpaas-sshd $(B)/minpaas-hook $(B)/minpaas-router \
           $(B)/minpaas-reconciler
SSHD_SRC = $(wildcard sshd/*.c)
HOOK_SRC = hooks/main.c
ROUTER_SRC = $(wildcard router/*.c)
RECONCILER_SRC = $(wildcard reconciler/*.c)
CLI_SRC  = cli/main.c

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Unit tests may link a binary's own modules (all but its main.c).
UNIT_EXTRA = $(filter-out %/main.c,$(SSHD_SRC) $(HOOK_SRC) $(ROUTER_SRC))
UNIT_EXTRA_OBJ = $(UNIT_EXTRA:%.c=$(B)/%.o)

RUNTIME_FILES = $(sort $(wildcard runtimes/*/Dockerfile runtimes/*/*.sh))

.PHONY: all run test unit unit-bins router-tools e2e deps docker stack clean format install install-client
all: $(BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The platform's Dockerfiles and scripts, compiled in as C strings.
$(B)/gen/runtime_files.c: $(RUNTIME_FILES) runtimes/embed.sh
	@mkdir -p $(dir $@)
	sh runtimes/embed.sh $(RUNTIME_FILES) > $@.tmp && mv $@.tmp $@
$(B)/gen/runtime_files.o: $(B)/gen/runtime_files.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/minpaas: $(CLI_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/minpaas-sshd: $(SSHD_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/minpaas-hook: $(HOOK_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/minpaas-router: $(ROUTER_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/minpaas-reconciler: $(RECONCILER_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Router test and benchmark helpers: a route writer and a tiny backend.
ROUTER_TOOLS = $(B)/tests/minpaas-route-set $(B)/bench/minpaas-bench-upstream
router-tools: $(ROUTER_TOOLS)
$(B)/tests/minpaas-route-set: tests/router/route.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)
$(B)/bench/minpaas-bench-upstream: bench/upstream.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/tests/%: tests/unit/%.c $(UNIT_EXTRA_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) -lcmocka

deps:
	@sh scripts/deps.sh
docker: deps
	@sh scripts/dockerd.sh
stack: docker
	@sh runtimes/stack/build.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/dockerd.sh
	@sh runtimes/stack/build.sh
	@sh scripts/run.sh

unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

e2e: all
	@sh tests/e2e/run.sh

test: deps
	@sh tests/run.sh

# The server's binaries and the client (contrib/minpaas, installed as
# minpaas-client beside the admin command `minpaas`) under $(PREFIX); the
# config file /etc/minpaas/minpaas.conf, only when there is none (an
# administrator's file is never replaced); and the systemd unit, in
# $(PREFIX)/lib/systemd/system: systemd reads /usr/local/lib/systemd/system
# for units installed from source and leaves /etc/systemd/system to the
# administrator (see system/minpaas.service.in). DESTDIR for packaging.
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR  = /etc/minpaas
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 contrib/minpaas $(DESTDIR)$(PREFIX)/bin/minpaas-client
	sed 's|@BINDIR@|$(PREFIX)/bin|g' system/minpaas.service.in > $(DESTDIR)$(UNITDIR)/minpaas.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/minpaas.service.tmp
	mv $(DESTDIR)$(UNITDIR)/minpaas.service.tmp $(DESTDIR)$(UNITDIR)/minpaas.service
	@if [ -e $(DESTDIR)$(CONFDIR)/minpaas.conf ]; then \
		echo "kept $(DESTDIR)$(CONFDIR)/minpaas.conf (the new defaults are in system/minpaas.conf)"; \
	else \
		echo "install -m 0644 system/minpaas.conf $(DESTDIR)$(CONFDIR)/minpaas.conf"; \
		install -m 0644 system/minpaas.conf $(DESTDIR)$(CONFDIR)/minpaas.conf; \
	fi

# On a developer's machine the client is `minpaas` (no admin command there).
install-client:
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 contrib/minpaas $(DESTDIR)$(PREFIX)/bin/minpaas

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c)

clean:
	rm -rf build build-asan

-include $(shell find $(B) -name '*.d' 2>/dev/null)
