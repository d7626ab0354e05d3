// Package qemulayout learns where a running QEMU keeps guest RAM in its own
// address space, from the text of HMP commands: `info mtree -f` (which
// guest-physical ranges are RAM, split around the PCI hole and above
// 4 GiB), `info ramblock` (the RAM blocks behind them) and `gpa2hva` (the
// host address of one guest-physical address). It never assumes a layout
// and never talks to QEMU itself: the caller runs the commands (through
// libvirt, say) and hands the text in.
package qemulayout
