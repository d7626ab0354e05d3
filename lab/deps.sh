#!/usr/bin/env bash
# Installs what nitro and its lab guest need on Debian 12 and starts libvirt's
# daemons. Safe to run again: it installs only what is missing and starts only
# what is not running.
set -euo pipefail

PKGS=(
	qemu-system-x86 libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
	busybox-static cpio gzip linux-image-amd64 linux-image-6.12-amd64
	gcc libc6-dev linux-libc-dev tmux iproute2 xz-utils strace
	openssh-client openssh-server
)
URI=${LIBVIRT_DEFAULT_URI:-qemu:///system}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
	if [[ ! -f /etc/debian_version ]] || ((EUID != 0)); then
		echo "deps: nitro needs these Debian 12 packages, installed as root:" >&2
		echo "  apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The suspicious lab guest's kernel module (lab/sus/hide.c) is built against
# the headers of the kernel the lab boots: lab.sh's newest /boot/vmlinuz-6.1.*.
lab_kernel=$(ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1)
lab_kernel=${lab_kernel#/boot/vmlinuz-}
if [[ -n $lab_kernel ]] && ! dpkg-query -W -f='${Status}' "linux-headers-$lab_kernel" 2>/dev/null | grep -q 'install ok installed'; then
	if [[ ! -f /etc/debian_version ]] || ((EUID != 0)); then
		echo "deps: the lab needs linux-headers-$lab_kernel, installed as root" >&2
		exit 1
	fi
	echo "deps: installing linux-headers-$lab_kernel"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "linux-headers-$lab_kernel" make >/dev/null
fi

if ! command -v go >/dev/null; then
	echo "deps: Go 1.26 or newer is needed on PATH (https://go.dev/dl)" >&2
	exit 1
fi

if [[ $URI == qemu:///system ]]; then
	if ((EUID != 0)); then
		echo "deps: starting libvirtd needs root" >&2
		exit 1
	fi
	# The tests read a guest's whole serial log, boot lines and all, and the
	# guest's strace runs write a lot: virtlogd must not roll the log over
	# (by default at 2 MiB). SIGUSR1 makes a running virtlogd re-exec itself
	# with the new setting, keeping its open logs.
	if ! grep -qx 'max_size = 0' /etc/libvirt/virtlogd.conf 2>/dev/null; then
		echo 'max_size = 0' >>/etc/libvirt/virtlogd.conf
		pkill -USR1 -x virtlogd || true
	fi
	# Without systemd nothing starts the daemons; with it they are socket-activated.
	pgrep -x virtlogd >/dev/null || virtlogd -d
	pgrep -x libvirtd >/dev/null || libvirtd -d
	for _ in $(seq 60); do
		virsh -c "$URI" list >/dev/null 2>&1 && exit 0
		sleep 1
	done
	echo "deps: libvirtd does not answer on $URI after 60 s" >&2
	exit 1
fi
