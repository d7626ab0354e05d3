package windows

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"nitro/core/backend"
	"nitro/core/backend/windows/wintest"
)

// isfFile is a small Volatility 3 ISF for a build nitro does not know,
// laid out as the later 7601 updates are, with the fields and symbols the
// back end reads and a few it does not.
func isfFile(guid string) map[string]any {
	fields := func(kv ...any) map[string]any {
		f := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			f[kv[i].(string)] = map[string]any{"offset": kv[i+1], "type": map[string]any{"kind": "base", "name": "unsigned long"}}
		}
		return map[string]any{"kind": "struct", "size": 0x500, "fields": f}
	}
	b := wintest.BuildLater
	sym := func(a uint64) map[string]any { return map[string]any{"address": a} }
	return map[string]any{
		"metadata": map[string]any{
			"format":  "6.2.0",
			"windows": map[string]any{"pdb": map[string]any{"GUID": guid, "age": 2, "database": "ntkrnlmp.pdb", "machine_type": 34404}},
		},
		"base_types": map[string]any{},
		"enums":      map[string]any{},
		"user_types": map[string]any{
			"_KPCR":       fields("UserRsp", 0x10, "Prcb", 0x180, "IdtBase", 0x38),
			"_KPRCB":      fields("CurrentThread", 8),
			"_KTHREAD":    fields("ApcState", 0x50, "Teb", 0xb8, "Process", 0x210),
			"_KAPC_STATE": fields("Process", 0x20),
			"_KPROCESS":   fields("DirectoryTableBase", 0x28),
			"_EPROCESS": fields("UniqueProcessId", 0x180, "ActiveProcessLinks", 0x188,
				"InheritedFromUniqueProcessId", 0x290, "ImageFileName", 0x2e0, "ThreadListHead", 0x308,
				"Wow64Process", 0x320, "SeAuditProcessCreationInfo", 0x390, "ExitStatus", 0x444),
			"_ETHREAD": fields("Cid", b.Cid, "ThreadListEntry", b.ThreadListEntry),
		},
		"symbols": map[string]any{
			"KiSystemCall64": sym(b.KiSystemCall64), "KiServiceTable": sym(b.KiServiceTable),
			"KeServiceDescriptorTableShadow": sym(b.KeServiceDescriptorShdw),
			"PsActiveProcessHead":            sym(b.PsActiveProcessHead), "PsInitialSystemProcess": sym(b.PsInitialSystemProcess),
			"NtBuildNumber": sym(b.NtBuildNumber),
		},
	}
}

// unknownBuild is the later build's layout under a GUID nitro does not know.
func unknownBuild() (wintest.Build, string) {
	b := wintest.BuildLater
	b.GUID = [16]byte{0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 1, 2, 3, 4, 5, 6, 7, 8}
	return b, "12345678-9ABC-DEF0-0102-030405060708"
}

// writeISF writes doc as ISF JSON, compressed as ext says ("", ".xz", ".gz").
func writeISF(t *testing.T, doc map[string]any, ext string) string {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ntkrnlmp.json") + ext
	switch ext {
	case ".gz":
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(raw)
		w.Close()
		raw = buf.Bytes()
	case ".xz":
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := xz.NewWriter(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestISFProfile opens a guest of an unknown build with its ISF, plain and
// xz-compressed, and lists its processes with the ISF's offsets.
func TestISFProfile(t *testing.T) {
	build, guid := unknownBuild()
	g := wintest.New(build)
	if _, err := Open(target(g)); !errors.Is(err, ErrUnknownBuild) {
		t.Fatalf("without a profile: %v", err)
	}
	for _, ext := range []string{"", ".xz", ".gz"} {
		tg := target(g)
		tg.Profile = writeISF(t, isfFile(guid), ext)
		bk, err := Open(tg)
		if err != nil {
			t.Fatalf("%q: %v", ext, err)
		}
		b := bk.(*Backend)
		procs, err := b.Processes()
		if err != nil || len(procs) < 12 {
			t.Fatalf("%q: %d tasks, %v", ext, len(procs), err)
		}
		if cmd := g.Proc("cmd.exe"); !slices.ContainsFunc(procs, func(p backend.Process) bool { return p.PID == cmd.PID && p.Image == cmd.Path }) {
			t.Errorf("%q: no image path %q for cmd.exe", ext, cmd.Path)
		}
		if b.Stops().Entry != g.Entry() || !strings.HasPrefix(b.Kernel(), "Windows 7 SP1 x64 (ntoskrnl ISF ntkrnlmp.pdb") {
			t.Errorf("entry %#x, kernel %q", b.Stops().Entry, b.Kernel())
		}
	}
}

func TestISFErrors(t *testing.T) {
	build, guid := unknownBuild()
	g := wintest.New(build)
	other := isfFile("3844DBB920174967BE7AA4A2C20430FA")
	lacking := isfFile(guid)
	delete(lacking["user_types"].(map[string]any), "_ETHREAD")
	noSymbol := isfFile(guid)
	delete(noSymbol["symbols"].(map[string]any), "KiSystemCall64")
	for name, c := range map[string]struct {
		doc  map[string]any
		want string
	}{
		"another build":    {other, "describes GUID 3844DBB9"},
		"a missing type":   {lacking, "_ETHREAD.Cid"},
		"a missing symbol": {noSymbol, "KiSystemCall64"},
	} {
		tg := target(g)
		tg.Profile = writeISF(t, c.doc, "")
		_, err := Open(tg)
		if !errors.Is(err, ErrISF) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrISF saying %q", name, err, c.want)
		}
	}
	tg := target(g)
	tg.Profile = filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(tg.Profile, []byte(`{"metadata": [`), 0o644)
	if _, err := Open(tg); !errors.Is(err, ErrISF) {
		t.Errorf("bad JSON: %v", err)
	}
}

// TestProfileRoundTrip writes the profile of a known build and opens the
// guest again with it, as --profile does.
func TestProfileRoundTrip(t *testing.T) {
	g := wintest.New(wintest.BuildLater)
	var buf strings.Builder
	if err := open(t, g).WriteProfile(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tg := target(g)
	tg.Profile = path
	b, err := Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	want := builtin["2E37F962D699492CAAF3F9F4E9770B1D"]
	got := *b.(*Backend).layout
	got.Build, want.Build = "", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back:\n%+v\nwant\n%+v", got, want)
	}
}

// TestKVAShadow opens a kernel as a vCPU in user mode under KVA shadowing
// shows it: its tables map the KPCR and the shadow entry, not the kernel.
// The kernel is read through the KPRCB's KernelDirectoryTableBase; without
// KiSystemCall64Shadow in the profile the error says what to give.
func TestKVAShadow(t *testing.T) {
	g := wintest.New(wintest.BuildLater)
	cmd := g.Proc("cmd.exe")
	shadow := g.Shadow(cmd)
	tg := target(g)
	tg.CR3, tg.GSBase, tg.KernelGSBase = shadow, wintest.TEB, g.KPCR
	if _, err := Open(tg); !errors.Is(err, ErrKVAShadow) || !strings.Contains(err.Error(), "KiSystemCall64Shadow") {
		t.Fatalf("a shadow kernel without its entry: %v", err)
	}
	doc := isfFile("2E37F962D699492CAAF3F9F4E9770B1D")
	doc["symbols"].(map[string]any)["KiSystemCall64Shadow"] = map[string]any{"address": wintest.ShadowEntry}
	tg.Profile = writeISF(t, doc, "")
	bk, err := Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	b := bk.(*Backend)
	if b.Stops().Entry != wintest.KernelBase+wintest.ShadowEntry {
		t.Errorf("entry %#x, want KiSystemCall64Shadow", b.Stops().Entry)
	}
	u := g.User(cmd)
	g.Put(u, wintest.Strings+0x200, wintest.UTF16("Run"))
	g.Put(u, wintest.Strings+0x100, wintest.UnicodeString(wintest.Strings+0x200, "Run"))
	ev := entry(g, "NtLoadDriver", wintest.Strings+0x100)
	ev.Regs.RIP, ev.SRegs.CR3 = b.Stops().Entry, shadow
	call, err := b.Handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if call.Name != "NtLoadDriver" || call.Args[0].Text != `"Run"` || call.Process.PID != 1320 {
		t.Errorf("under the shadow tables: %s(%s) from %+v", call.Name, call.Args[0].Text, call.Process)
	}
}
