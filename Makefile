# nitro: build, test and demo. Run as root on Debian 12; `make deps` installs
# what is missing (apt packages, libvirtd) and is run by the targets that need it.

GO        ?= go
BIN       := bin/nitro
LAB       := lab/lab.sh
E2E_FLAGS ?= -count=1 -timeout 40m
# Lab settings pass through the environment, e.g. `make lab-up LAB_KERNEL=6.12 LAB_VCPUS=2`.
export LAB_NAME LAB_KERNEL LAB_KERNEL_IMAGE LAB_VCPUS LAB_MEM_MB LAB_MEM_BACKING LAB_WORKLOAD LAB_STRACE LAB_URI

UNIT_PKGS = $(shell $(GO) list ./... | grep -v /e2e)

.PHONY: all deps build vet unit e2e test bench soak demo lab-up lab-down lab-status clean

all: build

deps:
	@lab/deps.sh

build: deps
	$(GO) build -o $(BIN) .

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet: deps
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: deps
	$(GO) test -count=1 $(UNIT_PKGS)

# The e2e tests boot each lab guest they need once, in TestMain.
e2e: deps
	$(GO) test $(E2E_FLAGS) -v ./e2e/

test: vet unit e2e

# Every fuzz target of the unit packages, one at a time, for FUZZ_TOTAL in
# all (FUZZTIME, if set, is each target's time instead); it fails on any
# crash, whose input it leaves under the package's testdata/fuzz. `unit`
# runs only the seed corpora, as plain `go test` does.
FUZZ_TOTAL ?= 10m
# Go 1.26's fuzzing coordinator can fail a target with "context deadline
# exceeded" as its -fuzztime runs out, with no crash (go.dev/issue/75804,
# fixed in 1.27): the fuzzing runs on 1.27, fetched by the go command.
FUZZ_TOOLCHAIN ?= go1.27.3

.PHONY: fuzz
fuzz:
	GOTOOLCHAIN=$(FUZZ_TOOLCHAIN) $(GO) run ./internal/fuzzall -total $(FUZZ_TOTAL) $(if $(FUZZTIME),-each $(FUZZTIME)) $(UNIT_PKGS)

# A report, not a test: the raw output goes to bench.txt, a summary (key
# figures, ratios against their goals) to the terminal. The e2e benchmarks
# stop a TCG guest thousands of times: they get more time per benchmark.
# Two boot a guest of their own: EightVCPUs traces every call of an 8-vCPU
# guest (nitro-smp8) for NITRO_BENCH_SMP_FOR (default 10m; its workload is
# NITRO_BENCH_SMP_WORKLOAD, default light), Soak runs the TUI headless on the
# busy guest for NITRO_SOAK (default 3m here; `make soak` runs 1h).
BENCH_OUT     ?= bench.txt
E2E_BENCHTIME ?= 5s

bench: deps
	@{ $(GO) test -run '^$$' -bench . -benchmem $(UNIT_PKGS); \
	   $(GO) test $(E2E_FLAGS) -timeout 90m -run '^$$' -bench . -benchmem -benchtime $(E2E_BENCHTIME) ./e2e/; \
	   $(GO) run ./ui/uitest/flood -for 30s -benchfmt || echo "FAIL	nitro/ui/uitest/flood"; \
	 } 2>&1 | tee $(BENCH_OUT)
	@echo; $(GO) run ./internal/benchsum $(BENCH_OUT)

# The soak alone, for NITRO_SOAK (any Go duration): the TUI on the busy guest,
# nitro's memory sampled each minute; it fails if the end is 10% over the
# first minute. It leaves the other lab guests alone (-lab=false).
NITRO_SOAK ?= 1h
SOAK_OUT   ?= soak.txt

soak: deps
	@NITRO_SOAK=$(NITRO_SOAK) $(GO) test -count=1 -timeout 0 -run '^$$' -bench '^BenchmarkSoak$$' -benchtime 1x ./e2e/ -args -lab=false 2>&1 | tee $(SOAK_OUT)
	@echo; $(GO) run ./internal/benchsum $(SOAK_OUT)

lab-up: deps
	@$(LAB) up

lab-down:
	@$(LAB) down

lab-status:
	@$(LAB) status

# The recording the README opens first, `nitro replay examples/lab.nitro`,
# made again from the lab guest: 2,500 calls of its light workload (cat, ls,
# the probes, their execve and failing opens), which replay/shipped_test.go
# checks and holds to its size budget. Written beside, then moved: a
# failed run leaves the old one.
LAB_RECORDING := examples/lab.nitro

.PHONY: lab-recording
lab-recording: build lab-up
	./$(BIN) -c "$${LAB_URI:-qemu:///system}" record -o $(LAB_RECORDING).new --count 2500 --duration 10m $${LAB_NAME:-nitro-lab} || \
		{ rm -f $(LAB_RECORDING).new; exit 1; }
	mv $(LAB_RECORDING).new $(LAB_RECORDING)
	$(GO) test -count=1 -run TestShippedRecording ./replay/

# Every Debian 6.1 and 6.12 kernel image (amd64, cloud-amd64, rt-amd64) the
# archive serves, downloaded (not installed) into KERNEL_CACHE, and nitro's
# discovery run on each offline; `make unit` checks the /boot kernels alone.
KERNEL_CACHE ?= /var/cache/nitro/kernels

.PHONY: kernel-matrix kernel-matrix-live
kernel-matrix:
	$(GO) run ./internal/kmatrix -cache $(KERNEL_CACHE)

# Three of the matrix's kernels the lab does not use, booted as lab guests
# with KASLR and traced: the newest 6.1 rt, the newest 6.12 cloud and the
# oldest 6.1 amd64 (another ABI). KERNELS_LIVE picks others.
KERNELS_LIVE ?= $(shell cd $(KERNEL_CACHE)/vmlinuz 2>/dev/null && { \
	ls -d linux-image-6.1.0-*-rt-amd64_* | sort -V | tail -n 1; \
	ls -d linux-image-6.12.*-cloud-amd64_* | sort -V | tail -n 1; \
	ls -d linux-image-6.1.0-*-amd64_* | grep -v -e -rt- -e -cloud- | sort -V | head -n 1; } | \
	sed 's|^|$(KERNEL_CACHE)/vmlinuz/|' | paste -sd, -)
kernel-matrix-live: kernel-matrix
	$(GO) test $(E2E_FLAGS) -tags matrix -run TestKernelsLive -v ./e2e/ -args -lab=false -kernels=$(KERNELS_LIVE)

# strace's own test programs (Debian's strace 6.1 source, tests/*.c) as the
# oracle for nitro's text: those whose test needs no strace option beyond
# -a and -e trace= run in the guest nitro-strace-tests, each printing the
# lines strace must show for its calls, and nitro traces them. A report,
# not part of `make test`: per program in $(STRACE_ORACLE)/report.txt, a
# summary here. STRACE_ORACLE_RUN=REGEXP runs only those programs.
STRACE_ORACLE     ?= /var/lib/nitro/strace-oracle
STRACE_ORACLE_RUN ?=

.PHONY: strace-oracle
strace-oracle: deps
	$(GO) run ./internal/straceoracle -dir $(STRACE_ORACLE) $(if $(STRACE_ORACLE_RUN),-run '$(STRACE_ORACLE_RUN)')

# The main job: everything installed, the lab guest up, the TUI attached to it.
demo: build lab-up
	./$(BIN) --domain $${LAB_NAME:-nitro-lab}

clean:
	rm -rf bin
