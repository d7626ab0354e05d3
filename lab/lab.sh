#!/usr/bin/env bash
# The nitro lab: a libvirt domain under QEMU's TCG that boots Debian's own
# kernel with a small busybox initramfs running a known workload.
#
#   lab.sh up|down|status|build
#
# Settings (environment):
#   LAB_NAME      domain name                          (nitro-lab)
#   LAB_KERNEL    kernel version prefix found in /boot  (6.1; 6.12 for the newer one)
#   LAB_KERNEL_IMAGE  a vmlinuz to boot instead, e.g. one of make kernel-matrix's
#   LAB_VCPUS     vCPU count                           (1)
#   LAB_MEM_MB    memory in MiB                        (256; 1024 for many)
#   LAB_MEM_BACKING  memfd: RAM in a shared memfd, which nitro maps; anon:
#                 libvirt's default anonymous RAM, read a system call a read (memfd)
#   LAB_WORKLOAD  light: known programs once a second; busy: a tight syscall loop;
#                 many: 5,000 sleeping processes, then light; sus: light, with the
#                 planted behaviours of lab/sus beside it, for nitro triage; hostile:
#                 light, with nitro-hostile (decoy kallsyms, control bytes in names,
#                 huge argv and iovec counts) beside it as uid 1000, and nitro-peek
#                 reading the kernel's entry code through /proc/kcore; strace-tests:
#                 only strace's own test programs, in rounds (lab/strace-tests) (light)
#   LAB_STRACE_TESTS  those programs, staged by lab/strace-oracle.sh build
#                 (/var/lib/nitro/strace-oracle/guest)
#   LAB_STRACE    on: every third light iteration runs nitro-rich, then a mixed
#                 workload, under the guest's own strace, the tests' oracle; rich:
#                 nitro-rich only; off: neither (on)
#   LAB_CPU_VENDOR  AMD or Intel; the kernel turns on page-table isolation on Intel (AMD)
#   LAB_URI       libvirt URI                          ($LIBVIRT_DEFAULT_URI or qemu:///system)
#   LAB_STATE     where images and the serial log go   (/var/lib/nitro/lab)
set -euo pipefail

LAB_NAME=${LAB_NAME:-nitro-lab}
LAB_KERNEL=${LAB_KERNEL:-6.1}
LAB_VCPUS=${LAB_VCPUS:-1}
LAB_WORKLOAD=${LAB_WORKLOAD:-light}
LAB_STRACE=${LAB_STRACE:-on}
# Each of many's processes takes some 50 KiB of guest RAM, and the kernel
# allows a task per 128 KiB (threads-max): 256 MiB holds 2,048.
if [[ $LAB_WORKLOAD == many ]]; then LAB_MEM_MB=${LAB_MEM_MB:-1024}; else LAB_MEM_MB=${LAB_MEM_MB:-256}; fi
LAB_MEM_BACKING=${LAB_MEM_BACKING:-memfd}
LAB_CPU_VENDOR=${LAB_CPU_VENDOR:-AMD}
LAB_URI=${LAB_URI:-${LIBVIRT_DEFAULT_URI:-qemu:///system}}
LAB_STATE=${LAB_STATE:-/var/lib/nitro/lab}
LAB_STRACE_TESTS=${LAB_STRACE_TESTS:-/var/lib/nitro/strace-oracle/guest}

here=$(cd "$(dirname "$0")" && pwd)
dir=$LAB_STATE/$LAB_NAME
serial=$dir/serial.log
# virsh starts polkit's text agent whenever it has a controlling terminal,
# and with no polkit daemon running the agent prints "Authorization not
# available..." there. Root needs no authorization: virsh runs without one.
virsh() { setsid -w virsh -q -c "$LAB_URI" "$@"; }
die() { echo "lab: $*" >&2; exit 1; }

kernel_image() {
	local k
	if [[ -n ${LAB_KERNEL_IMAGE:-} ]]; then
		[[ -f $LAB_KERNEL_IMAGE ]] || die "no kernel image $LAB_KERNEL_IMAGE"
		echo "$LAB_KERNEL_IMAGE"
		return
	fi
	k=$(ls /boot/vmlinuz-"$LAB_KERNEL".* 2>/dev/null | sort -V | tail -n 1)
	[[ -n $k ]] || die "no /boot/vmlinuz-$LAB_KERNEL.* (install the Debian kernel package; see lab/deps.sh)"
	echo "$k"
}

config() {
	# The guest's sources count too: changing them rebuilds a running lab.
	echo "kernel=$(kernel_image) vcpus=$LAB_VCPUS mem=$LAB_MEM_MB backing=$LAB_MEM_BACKING workload=$LAB_WORKLOAD strace=$LAB_STRACE" \
		"vendor=$LAB_CPU_VENDOR" \
		"guest=$(cat "$here"/guest/* | md5sum | cut -c1-12)$(
			# Only the suspicious guest has lab/sus: the others keep their configuration.
			[[ $LAB_WORKLOAD != sus ]] || echo " sus=$(cat "$here"/sus/* | md5sum | cut -c1-12)"
			[[ $LAB_WORKLOAD != strace-tests ]] ||
				echo " strace-tests=$(cat "$here"/strace-tests/* "$LAB_STRACE_TESTS"/* | md5sum | cut -c1-12)"
		)"
}

# hide_module builds lab/sus's kernel module into $1, against the headers
# of the kernel the guest boots (Debian's linux-headers-VERSION).
hide_module() {
	local version build tmp
	version=$(basename "$(kernel_image)")
	version=${version#vmlinuz-}
	build=/lib/modules/$version/build
	[[ -d $build ]] || die "no $build (apt-get install linux-headers-$version; see lab/deps.sh)"
	tmp=$(mktemp -d)
	cp "$here/sus/hide.c" "$here/sus/Kbuild" "$tmp"
	make -s -C "$build" M="$tmp" modules >"$tmp/log" 2>&1 ||
		die "building nitro-hide.ko: $(cat "$tmp/log")"
	cp "$tmp/nitro-hide.ko" "$1"
	rm -rf "$tmp"
}

build() {
	local root cflags
	mkdir -p "$dir"
	chmod 755 "$LAB_STATE" "$dir"
	root=$(mktemp -d)
	chmod 755 "$root" # the guest's /: mktemp's 0700 would shut its users other than root out
	mkdir -p "$root"/{bin,dev,etc/nitro,proc,sys,tmp}
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
	done
	cflags=(-O2 -static -nostdlib -ffreestanding -fno-builtin -fno-stack-protector -fno-pie -no-pie
		-fno-asynchronous-unwind-tables -Wall -Werror)
	gcc "${cflags[@]}" -o "$root/bin/nitro-probe" "$here/guest/probe.c"
	gcc "${cflags[@]}" -o "$root/bin/nitro-busy" "$here/guest/busy.c"
	gcc "${cflags[@]}" -o "$root/bin/nitro-many" "$here/guest/many.c"
	gcc "${cflags[@]}" -o "$root/bin/nitro-hostile" "$here/guest/hostile.c"
	gcc "${cflags[@]}" -o "$root/bin/nitro-peek" "$here/guest/peek.c"
	gcc "${cflags[@]}" -o "$root/bin/nitro-forkexec" "$here/guest/forkexec.c"
	# The 32-bit compat twin: int $0x80 and the vDSO's sysenter/syscall entry.
	gcc -m32 "${cflags[@]}" -o "$root/bin/nitro-probe32" "$here/guest/probe32.c"
	# The one with glibc (static, with its threads): what an ordinary program calls.
	gcc -O2 -static -pthread -Wall -Werror -o "$root/bin/nitro-rich" "$here/guest/rich.c"
	install -m 755 "$here/guest/init" "$root/init"
	if [[ $LAB_WORKLOAD == sus ]]; then
		gcc "${cflags[@]}" -o "$root/bin/nitro-sus" "$here/sus/sus.c"
		ln -s nitro-sus "$root/bin/nitro-hidden" # the process nitro-hide.ko hides
		mkdir -p "$root/lib"
		hide_module "$root/lib/nitro-hide.ko"
		install -m 755 "$here/sus/init" "$root/sus-init" # the kernel's rdinit= (domain_xml)
	fi
	if [[ $LAB_WORKLOAD == strace-tests ]]; then
		[[ -s $LAB_STRACE_TESTS/list ]] || die "no $LAB_STRACE_TESTS/list (make strace-oracle stages it)"
		cp -r "$LAB_STRACE_TESTS" "$root/strace-tests"
		install -m 755 "$here/strace-tests/init" "$root/strace-tests-init" # rdinit= (domain_xml)
		# The libraries they link with (libm, for a few), at their paths.
		for f in $(ldd "$LAB_STRACE_TESTS"/* 2>/dev/null | awk '/^\t/ { for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u); do
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
		done
	fi
	# Debian's strace, the guest's own account of its calls for the tests to
	# hold nitro's against: the binary, the libraries ldd lists and the
	# loader, each at the path it was linked with.
	[[ -x /usr/bin/strace ]] || die "no /usr/bin/strace (apt-get install strace; see lab/deps.sh)"
	for f in /usr/bin/strace $(ldd /usr/bin/strace | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	# Two files of the same length, so a tracer can swap one path for the other in place.
	echo "nitro probe input" >"$root/etc/nitro/probe-input"
	echo "nitro probe OTHER" >"$root/etc/nitro/probe-other"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.gz"
	cp "$(kernel_image)" "$dir/vmlinuz"
	chmod 644 "$dir/initrd.gz" "$dir/vmlinuz"
	rm -rf "$root"
}

# cpu_model picks a model QEMU's TCG emulates for the vendor: qemu64 says
# AuthenticAMD, Nehalem GenuineIntel (and so gets page-table isolation).
cpu_model() {
	case $LAB_CPU_VENDOR in
	AMD) echo qemu64 ;;
	Intel) echo Nehalem ;;
	*) die "LAB_CPU_VENDOR must be AMD or Intel, not $LAB_CPU_VENDOR" ;;
	esac
}

# memory_backing is the domain's <memoryBacking>: none for anonymous RAM.
memory_backing() {
	case $LAB_MEM_BACKING in
	memfd) printf "  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>\n" ;;
	anon) ;;
	*) die "LAB_MEM_BACKING must be memfd or anon, not $LAB_MEM_BACKING" ;;
	esac
}

domain_xml() {
	local backing
	backing=$(memory_backing)
	cat <<XML
<domain type='qemu'>
  <name>$LAB_NAME</name>
  <description>nitro lab guest: $(config)</description>
  <memory unit='MiB'>$LAB_MEM_MB</memory>
$backing
  <vcpu>$LAB_VCPUS</vcpu>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>$(cpu_model)</model>
  </cpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet nitro.workload=$LAB_WORKLOAD nitro.strace=$LAB_STRACE$(rdinit)</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='$serial' append='off'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# rdinit is the kernel's rdinit= for the workloads that start otherwise than /init.
rdinit() {
	case $LAB_WORKLOAD in
	sus) echo " rdinit=/sus-init" ;;
	strace-tests) echo " rdinit=/strace-tests-init" ;;
	esac
}

state() { virsh domstate "$LAB_NAME" 2>/dev/null | head -n 1 || true; }

# Waits until the workload has printed its first progress line.
wait_workload() {
	for _ in $(seq 240); do
		grep -qE '^nitro-(lab: iteration|busy:|strace-tests: ready) ' "$serial" 2>/dev/null && return 0
		[[ $(state) == running ]] || die "$LAB_NAME stopped while booting; serial log: $serial"
		sleep 0.5
	done
	die "$LAB_NAME: no workload output on $serial after 120 s"
}

up() {
	local want
	want=$(config)
	if [[ $(state) == running ]]; then
		if [[ -f $dir/config && $(cat "$dir/config") == "$want" ]]; then
			wait_workload
			echo "lab: $LAB_NAME already running ($want)"
			return
		fi
		echo "lab: $LAB_NAME runs another configuration; restarting it"
	fi
	down >/dev/null
	build
	domain_xml >"$dir/domain.xml"
	virsh define "$dir/domain.xml" >/dev/null
	virsh start "$LAB_NAME" >/dev/null
	echo "$want" >"$dir/config"
	wait_workload
	echo "lab: $LAB_NAME running ($want); serial log $serial"
}

down() {
	case $(state) in
	"") ;;
	"shut off") virsh undefine "$LAB_NAME" >/dev/null ;;
	*)
		virsh destroy "$LAB_NAME" >/dev/null
		virsh undefine "$LAB_NAME" >/dev/null
		;;
	esac
	rm -f "$dir/config"
	echo "lab: $LAB_NAME down"
}

status() {
	local s
	s=$(state)
	echo "domain:     $LAB_NAME (${s:-not defined}) on $LAB_URI"
	[[ -f $dir/config ]] && echo "config:     $(cat "$dir/config")"
	echo "serial log: $serial"
	[[ -f $serial ]] && tail -n 5 "$serial" | sed 's/^/  /'
	[[ $s == running ]]
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
build) build ;;
*) die "usage: lab.sh up|down|status|build" ;;
esac
