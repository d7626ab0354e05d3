// Package record writes and reads nitro recordings: a guest's system calls,
// with every text its back end rendered, and its process table over time,
// kept in a file that opens with no VM. It knows only package api: a
// recording holds what the faces saw.
//
// # Format (version 2)
//
// All integers in fixed-size fields are little-endian. A file is a header,
// blocks, an index and a trailer:
//
//	header   "NITROREC" | version u16 | flags u16 | body length u32 | body | CRC-32C(body) u32
//	block    frame of kind "NBLK", its payload zstd-compressed
//	...
//	index    frame of kind "NIDX", its payload uncompressed
//	trailer  offset of the index frame u64 | "NITROEND"
//
// The header body holds, as uvarint-prefixed strings unless said, the
// domain's name, the guest's OS ("linux"), its kernel ("Linux 6.1.0-28-amd64"),
// the listener, the start time (varint Unix nanoseconds), the calls the guest
// stopped for (uvarint count, then names; none: every call) and the
// recorder's filter as a command line ("--pid 42"). A reader ignores bytes
// after the fields it knows, so a version can gain fields at the end.
//
// A frame is a 52-byte head and a payload:
//
//	kind [4]byte | payload length u32 | raw length u32 | events u32 |
//	first seq u64 | last seq u64 | first time i64 | last time i64 | CRC-32C u32
//
// The CRC covers the head's first 48 bytes and the payload, so a frame
// torn by a crash, or damaged, is seen as such. Times are Unix nanoseconds
// (a reader gives them in the local zone). A reader refuses a frame of more
// than 16 MiB (compressed or raw), a block of more than 65536 events, a
// call of more than 16 arguments, and snapshots of more than 2^20
// processes in a block: a hostile file gets an error, not a huge
// allocation.
//
// A block is written with one write and compressed on its own, its string
// and process tables starting empty: any block decodes without those
// before it, which is what makes a recording seekable and crash-safe. A
// recorder killed mid-write leaves whole blocks and at most one torn frame;
// a reader then finds the blocks by scanning and stops at the first frame
// that is cut or fails its CRC (Reader.Damage says so).
//
// A block's raw payload is a sequence of records, each opening with a tag
// byte whose two low bits are its kind:
//
//	event     tag bits: 2 exit, 3 i386, 4 matched, 5 injected,
//	          6 like entry (nr, name and arguments are those of the last entry
//	            of the same thread in this block), 7 seq jump
//	          [varint seq delta, when bit 7; else the seq is the previous one + 1]
//	          varint time delta | uvarint vCPU | process ref
//	          [uvarint nr | string ref name | uvarint arg count | per arg: uvarint raw, string ref text]
//	          exit: varint ret | string ref errno | string ref ret text
//	          entry: string ref ret text ("?" for a call that never returns)
//	snapshot  varint time delta | uvarint count | count process refs
//
// An argument count's five low bits count the arguments; above them, bit
// i says the call writes argument i (api.Arg.Out: a line split by another
// call's shows it after the split, as strace does). Version 1 has no such
// bits, and reads as a call that writes none.
//
// Deltas chain from record to record, starting at the frame's first seq
// minus one and its first time. A string ref is 0 followed by a
// uvarint-prefixed string, which joins the block's string table, or k for
// the table's k-th string (the table starts with ""). A process ref is 0
// followed by varint pid, varint tid-pid, varint ppid, uvarint uid,
// uvarint task and a string ref comm, which joins the block's process
// table, or k for that table's k-th process.
//
// Each block opens with the latest process snapshot taken before it (the
// recorder takes one every second or so), so the process table at any
// position is that of the block's snapshots and the calls since.
//
// The index's payload is one 44-byte entry per block: offset u64, events
// u32, first seq u64, last seq u64, first time i64, last time i64. A file
// without a valid index and trailer (a recorder that did not finish) is
// indexed again by scanning its blocks.
package record
