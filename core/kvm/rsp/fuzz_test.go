package rsp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{"$OK#9a", "+-$T05thread:p01.02;#00", "$0* #72", "$}]#ba", "$a*~*~#00", "$#00", "%Stop:T05#00", "$" + string(make([]byte, 600))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPacket = 256
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			fr, err := readFrame(br, maxPacket)
			if len(fr.data) > maxPacket {
				t.Fatalf("payload of %d bytes exceeds the bound", len(fr.data))
			}
			if err != nil && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
				return // end of input
			}
		}
	})
}

func FuzzParseStop(f *testing.F) {
	for _, s := range []string{"T05thread:p01.02;", "T02thread:p1.-1;core:1;", "S05", "W00;process:1", "X09", "T05watch:ffff;thread:3;", "T05thread:p;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := parseStop(data); err == nil && s.Kind > Terminated {
			t.Fatalf("kind %d", s.Kind)
		}
	})
}

func FuzzParseTargetDesc(f *testing.F) {
	f.Add([]byte(`<target><architecture>i386:x86-64</architecture><xi:include href="target.xml"/></target>`))
	f.Add([]byte(`<feature name="a"><reg name="rax" bitsize="64"/><reg name="x" bitsize="128" regnum="70"/></feature>`))
	f.Add([]byte(`<!DOCTYPE target SYSTEM "gdb-target.dtd"><target><feature><reg name="a" bitsize="8" regnum="-1"/></feature></target>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		fetches := 0
		l, err := parseTargetDesc(func(string) ([]byte, error) {
			fetches++
			return doc, nil
		})
		if fetches > maxDescFiles {
			t.Fatalf("%d fetches", fetches)
		}
		if err != nil {
			return
		}
		off := 0
		for _, r := range l.Registers {
			if r.Offset != off || r.Size <= 0 {
				t.Fatalf("bad layout %+v", l.Registers)
			}
			off += r.Size
		}
	})
}

// hostileStub answers every packet the client sends with the same bytes.
func hostileStub(stream []byte) io.ReadWriteCloser {
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := server.Read(buf); err != nil {
				return
			}
			if _, err := server.Write(stream); err != nil {
				return
			}
		}
	}()
	return client
}

// FuzzClient feeds arbitrary stub output to a whole client session: every
// call must return (an error is fine) without panicking or hanging.
func FuzzClient(f *testing.F) {
	for _, s := range []string{
		"+$PacketSize=1000;qXfer:features:read+;multiprocess+#00",
		"+" + raw("PacketSize=100;qXfer:features:read+;multiprocess+;QStartNoAckMode+"),
		"+" + raw(`l<target><feature><reg name="rip" bitsize="64"/></feature></target>`),
		"+" + raw("T05thread:p01.01;") + raw("OK"),
		"+" + raw("E14"),
		"+" + raw("0* ") + raw("m"),
		"-",
		"$O4142#00$W00#b7",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		opts := &Options{Timeout: 5 * time.Millisecond, MaxPacket: 1024}
		c := newClient(hostileStub(stream), opts)
		defer c.Close()
		_ = c.handshake()
		_, _ = c.ReadRegisters()
		_ = c.ReadVirt(make([]byte, 16), 0x1000)
		_ = c.WritePhys(make([]byte, 16), 0x1000)
		_, _ = c.Threads()
		if c.Continue() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			_, _ = c.Wait(ctx)
			cancel()
			_ = c.Interrupt()
		}
	})
}
