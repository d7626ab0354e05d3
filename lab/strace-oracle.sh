#!/usr/bin/env bash
# Debian's strace 6.1 test programs, built for the strace-tests lab guest
# (LAB_WORKLOAD=strace-tests), whose output is what strace must print for
# the calls they make. internal/straceoracle picks the programs and compares
# nitro's text with theirs (make strace-oracle).
#
#   strace-oracle.sh prepare DIR       the source in DIR/src (apt-get source), configured
#                                      in DIR/build; prints the test programs, one a line
#   strace-oracle.sh build DIR LIST    builds the programs LIST names (lines "NAME ARGS..."),
#                                      and stages those that built, stripped, in DIR/guest
#                                      with DIR/guest/list (LIST's lines for them, in order)
set -euo pipefail

die() { echo "strace-oracle: $*" >&2; exit 1; }

# deb_src makes the machine's Debian archive serve sources too, in a
# sources file of its own: the deb-src twin of each deb entry for
# debian.org (deb822 stanzas and one-line entries alike).
deb_src() {
	apt-cache showsrc strace 2>/dev/null | grep -q '^Package: strace$' && return
	local f=/etc/apt/sources.list.d/nitro-deb-src
	# Each file on its own: a stanza ends with its file.
	for s in /etc/apt/sources.list.d/*.sources; do
		[[ -f $s ]] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)Types:([^\n]* )?deb( |\n|$)/ && /debian\.org/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$s"
	done >"$f.sources"
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n '/debian\.org/s/^deb\( \|\t\)/deb-src\1/p' >"$f.list"
	for s in "$f.sources" "$f.list"; do [[ -s $s ]] || rm -f "$s"; done
	apt-get update -qq
	apt-cache showsrc strace 2>/dev/null | grep -q '^Package: strace$' ||
		die "no source package strace even with deb-src entries (see $f.*)"
}

prepare() {
	local dir=$1 v
	mkdir -p "$dir"
	if [[ ! -f $dir/src/tests/gen_tests.in ]]; then
		command -v dpkg-source >/dev/null || apt-get install -y -qq dpkg-dev >/dev/null
		deb_src
		rm -rf "$dir/src" "$dir/dl"
		mkdir -p "$dir/dl"
		# apt downloads as _apt where it can, and warns where it cannot.
		chown _apt "$dir/dl" 2>/dev/null || true
		# The oracle is strace 6.1's: bookworm's version. apt checks the
		# files against the archive's signed index (dpkg-source need not).
		v=$(apt-cache showsrc strace | sed -n 's/^Version: //p' | grep '^6\.1-' | sort -V | tail -n 1)
		[[ -n $v ]] || die "the archive has no strace 6.1 source"
		(cd "$dir/dl" && apt-get source -qq --download-only "strace=$v" >/dev/null &&
			dpkg-source -x --no-check ./*.dsc "$dir/src" >/dev/null)
		# dpkg-source leaves the original tarball beside the tree.
		rm -rf "$dir/dl" "$dir"/strace_*
	fi
	if [[ ! -f $dir/build/tests/Makefile ]]; then
		rm -rf "$dir/build"
		mkdir -p "$dir/build"
		# x86-64 only (no m32/mx32 personalities), and none of the
		# optional libraries: the test programs need none of them.
		(cd "$dir/build" && "$dir/src/configure" -q --enable-mpers=no --without-libunwind --without-libdw \
			--without-libiberty --disable-gcc-Werror >configure.log 2>&1) ||
			die "configure failed: $dir/build/configure.log"
	fi
	# Generated headers (BUILT_SOURCES) come first, alone: a parallel make
	# races on them.
	make -s -C "$dir/build/tests" ksysent.h scno.h libtests.a >/dev/null
	make -s -C "$dir/build/tests" -f Makefile -f - print-programs <<<'print-programs: ; @echo $(check_PROGRAMS)' |
		tr ' ' '\n' | grep .
}

build() {
	local dir=$1 list=$2 name args
	# A program that does not build (a header this machine lacks) is left
	# out: the list says which did.
	cut -d' ' -f1 "$list" | xargs make -s -k -j"$(nproc)" -C "$dir/build/tests" >"$dir/build/make.log" 2>&1 || true
	rm -rf "$dir/guest"
	mkdir -p "$dir/guest"
	while read -r name args; do
		[[ -x $dir/build/tests/$name ]] || continue
		strip -o "$dir/guest/$name" "$dir/build/tests/$name"
		echo "$name${args:+ $args}" >>"$dir/guest/list"
	done <"$list"
	[[ -s $dir/guest/list ]] || die "no test program built: $dir/build/make.log"
}

case ${1:-} in
prepare) [[ $# == 2 ]] || die "usage: strace-oracle.sh prepare DIR"; prepare "$2" ;;
build) [[ $# == 3 ]] || die "usage: strace-oracle.sh build DIR LIST"; build "$2" "$3" ;;
*) die "usage: strace-oracle.sh prepare DIR | build DIR LIST" ;;
esac
