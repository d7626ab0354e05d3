package offsets

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// synthBTF marshals a small kernel-like type graph: task_struct with some
// fields inside an anonymous struct (as randomize_layout wrappers do),
// mm_struct, and a per-cpu variable locating the current task.
func synthBTF(t testing.TB, pcpuHot bool) []byte {
	t.Helper()
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	u64 := &btf.Int{Name: "long unsigned int", Size: 8}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	listHead := &btf.Struct{Name: "list_head", Size: 16}
	listHead.Members = []btf.Member{
		{Name: "next", Type: &btf.Pointer{Target: listHead}, Offset: 0},
		{Name: "prev", Type: &btf.Pointer{Target: listHead}, Offset: 64},
	}
	mm := &btf.Struct{Name: "mm_struct", Size: 256, Members: []btf.Member{
		{Name: "", Offset: 0, Type: &btf.Struct{Size: 256, Members: []btf.Member{
			{Name: "pgd", Type: &btf.Pointer{Target: u64}, Offset: 72 * 8},
		}}},
	}}
	task := &btf.Struct{Name: "task_struct", Size: 4096}
	inner := &btf.Struct{Size: 2048, Members: []btf.Member{
		{Name: "tasks", Type: listHead, Offset: 100 * 8},
		{Name: "pid", Type: u32, Offset: 200 * 8},
		{Name: "tgid", Type: u32, Offset: 204 * 8},
		{Name: "real_parent", Type: &btf.Pointer{Target: task}, Offset: 208 * 8},
		{Name: "mm", Type: &btf.Pointer{Target: mm}, Offset: 216 * 8},
		{Name: "comm", Type: &btf.Array{Index: u32, Type: char, Nelems: 16}, Offset: 224 * 8},
		{Name: "flags", Type: u32, Offset: 240 * 8, BitfieldSize: 3},
	}}
	task.Members = []btf.Member{
		{Name: "__state", Type: u32, Offset: 24 * 8},
		{Name: "", Type: &btf.Typedef{Name: "wrapped", Type: inner}, Offset: 1024 * 8},
	}
	types := []btf.Type{task, mm}
	if pcpuHot {
		hot := &btf.Struct{Name: "pcpu_hot", Size: 64, Members: []btf.Member{
			{Name: "", Type: &btf.Union{Size: 64, Members: []btf.Member{
				{Name: "", Type: &btf.Struct{Size: 16, Members: []btf.Member{
					{Name: "preempt_count", Type: u32, Offset: 0},
					{Name: "current_task", Type: &btf.Pointer{Target: task}, Offset: 64},
				}}},
			}}},
		}}
		types = append(types, &btf.Var{Name: "pcpu_hot", Type: hot, Linkage: btf.GlobalVar})
	} else {
		types = append(types, &btf.Var{Name: "current_task", Type: &btf.Pointer{Target: task}, Linkage: btf.GlobalVar})
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFromBTF(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pcpuHot bool
		current PerCPU
	}{
		{"6.1 current_task", false, PerCPU{Symbol: "current_task", Offset: 0}},
		{"6.2+ pcpu_hot", true, PerCPU{Symbol: "pcpu_hot", Offset: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := FromBTF(synthBTF(t, tc.pcpuHot))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]int{
				"size":        {o.Task.Size, 4096},
				"__state":     {o.Task.State, 24},
				"tasks":       {o.Task.Tasks, 1024 + 100},
				"pid":         {o.Task.Pid, 1024 + 200},
				"tgid":        {o.Task.Tgid, 1024 + 204},
				"real_parent": {o.Task.RealParent, 1024 + 208},
				"mm":          {o.Task.Mm, 1024 + 216},
				"comm":        {o.Task.Comm, 1024 + 224},
				"comm_size":   {o.Task.CommSize, 16},
				"pgd":         {o.MM.Pgd, 72},
				"parent":      {o.Task.Parent, Absent},
				"cred.uid":    {o.Cred.UID, Absent},
			}
			for name, v := range want {
				if v[0] != v[1] {
					t.Errorf("%s = %d, want %d", name, v[0], v[1])
				}
			}
			if o.Current != tc.current {
				t.Errorf("current = %+v, want %+v", o.Current, tc.current)
			}
		})
	}
}

func TestFromBTFErrors(t *testing.T) {
	if _, err := FromBTF([]byte("not btf")); err == nil {
		t.Error("garbage parsed as BTF")
	}
	// BTF without task_struct cannot give the required offsets.
	b, _ := btf.NewBuilder([]btf.Type{&btf.Int{Name: "int", Size: 4}}, nil)
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromBTF(raw); !errors.Is(err, ErrIncomplete) {
		t.Errorf("err = %v, want ErrIncomplete", err)
	}
}

const minimalProfile = `{
  "task_struct": {"tasks": 2192, "pid": 2416, "tgid": 2420, "comm": 2976, "mm": 2272, "real_parent": 2432},
  "mm_struct": {"pgd": 72},
  "per_cpu_current": {"symbol": "current_task", "offset": 0}
}`

func TestLoadProfile(t *testing.T) {
	o, err := LoadProfile(strings.NewReader(minimalProfile))
	if err != nil {
		t.Fatal(err)
	}
	if o.Task.Comm != 2976 || o.MM.Pgd != 72 || o.Task.Cred != Absent || o.ThreadSize != defaultThreadSize {
		t.Errorf("got %+v", o)
	}
	// A written profile reads back the same.
	var sb strings.Builder
	if err := o.WriteProfile(&sb); err != nil {
		t.Fatal(err)
	}
	back, err := LoadProfile(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if *back != *o {
		t.Errorf("round trip: %+v, want %+v", back, o)
	}
}

func TestLoadProfileErrors(t *testing.T) {
	for name, in := range map[string]string{
		"missing required": `{"task_struct": {"pid": 1}}`,
		"unknown key":      strings.Replace(minimalProfile, `"pid"`, `"pdi"`, 1),
		"out of range":     strings.Replace(minimalProfile, `"pid": 2416`, `"pid": 99999999`, 1),
		"negative":         strings.Replace(minimalProfile, `"pid": 2416`, `"pid": -7`, 1),
		"not json":         `{`,
		"too large":        `{"kernel": "` + strings.Repeat("x", maxProfileSize) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadProfile(strings.NewReader(in)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestOverride(t *testing.T) {
	o, err := FromBTF(synthBTF(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Override(strings.NewReader(`{"task_struct": {"pid": 8}, "thread_size": 32768}`)); err != nil {
		t.Fatal(err)
	}
	if o.Task.Pid != 8 || o.ThreadSize != 32768 {
		t.Errorf("override not applied: pid %d thread_size %d", o.Task.Pid, o.ThreadSize)
	}
	if o.Task.Tgid != 1024+204 || o.Current.Symbol != "pcpu_hot" {
		t.Errorf("override changed values it did not name: %+v", o)
	}
	before := *o
	if err := o.Override(strings.NewReader(`{"mm_struct": {"pgd": -1}}`)); !errors.Is(err, ErrIncomplete) {
		t.Errorf("removing a required value: err = %v, want ErrIncomplete", err)
	}
	if *o != before {
		t.Error("a failed override changed the offsets")
	}
}

func FuzzLoadProfile(f *testing.F) {
	f.Add(minimalProfile)
	f.Add(`{"task_struct": {"pid": -1}}`)
	f.Fuzz(func(t *testing.T, s string) {
		o, err := LoadProfile(strings.NewReader(s))
		if err == nil {
			if err := o.Validate(); err != nil {
				t.Fatalf("loaded an invalid profile: %v", err)
			}
		}
	})
}

// FuzzFromBTF feeds hostile bytes, as a guest can put between __start_BTF
// and __stop_BTF, to the BTF loader: an error, never a panic or a hang.
func FuzzFromBTF(f *testing.F) {
	f.Add(synthBTF(f, false))
	f.Add(synthBTF(f, true))
	f.Add([]byte{0x9f, 0xeb, 1, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := FromBTF(raw)
		if err == nil {
			if verr := o.Validate(); verr != nil {
				t.Fatalf("FromBTF accepted offsets that do not validate: %v", verr)
			}
		}
	})
}

// TestWriteProfileHostileBanner: the kernel name is linux_banner read from
// guest memory. The profile must reach the terminal as printable ASCII
// (no DEL, C1 control or bidi override) and still load back the same.
func TestWriteProfileHostileBanner(t *testing.T) {
	o, err := LoadProfile(strings.NewReader(minimalProfile))
	if err != nil {
		t.Fatal(err)
	}
	o.Kernel = "Linux \x1b[2J\x7f\u009b31m\u202eevil\u2066\u2069 \U0001F600"
	var sb strings.Builder
	if err := o.WriteProfile(&sb); err != nil {
		t.Fatal(err)
	}
	text := sb.String()
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c < 0x20 || c > 0x7e) && c != '\n' {
			t.Fatalf("byte %#x written in %q", c, text)
		}
	}
	back, err := LoadProfile(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if back.Kernel != o.Kernel {
		t.Errorf("kernel read back %q, want %q", back.Kernel, o.Kernel)
	}
}
