package triage

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Severity ranks findings, with Falco's priorities.
type Severity uint8

const (
	Debug Severity = iota
	Informational
	Notice
	Warning
	Error
	Critical
	Alert
	Emergency
)

var severityNames = []string{"debug", "informational", "notice", "warning", "error", "critical", "alert", "emergency"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText writes the severity's name: JSON findings read "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name, as ParseSeverity does.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity reads a severity's name, in any case; "info" is
// informational.
func ParseSeverity(name string) (Severity, error) {
	name = strings.ToLower(name)
	if name == "info" {
		return Informational, nil
	}
	if i := slices.Index(severityNames, name); i >= 0 {
		return Severity(i), nil
	}
	return 0, fmt.Errorf("unknown severity %q (have %s)", name, strings.Join(severityNames, ", "))
}

// Rule is one compiled rule.
type Rule struct {
	Name      string
	Severity  Severity
	Why       string // one line: why this matters
	Condition string
	// Threshold, when set, makes the rule fire only when its condition
	// holds Count times within Within for one process.
	Threshold *Threshold
	// types are the calls the condition can hold for; nil for any.
	types []string
	prog  *vm.Program            // for any call
	progs map[string]*vm.Program // by call in types: its tests of evt.type compiled as constants
	args  bool                   // it reads evt.args
}

// Threshold is a rate: Count matches within Within.
type Threshold struct {
	Count  int
	Within time.Duration
}

// maxThreshold bounds the matches a rate rule keeps per process.
const maxThreshold = 10000

// Rules is a compiled rule set with the lists and macros it was written
// with, which rule files loaded over it may use.
type Rules struct {
	rules  []*Rule
	lists  map[string][]string
	macros map[string]string
}

// Rules lists the rules, in the order they were loaded.
func (rs *Rules) Rules() []*Rule { return rs.rules }

// LoadError is a mistake in a rule file, at a line.
type LoadError struct {
	File string
	Line int
	Err  error
}

func (e *LoadError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LoadError) Unwrap() error { return e.Err }

//go:embed builtin.json
var builtinJSON []byte

// Builtin is nitro's own rule set (builtin.json, shipped in the binary),
// compiled once: nothing changes a loaded set.
var Builtin = sync.OnceValue(func() *Rules {
	rs, err := Load(nil, "builtin.json", builtinJSON)
	if err != nil {
		panic(err) // a test loads it: this is a build that cannot have shipped
	}
	return rs
})

// LoadFile loads the rule file at path over base (see Load).
func LoadFile(base *Rules, path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(base, path, data)
}

// item is one element of a rule file: a list, a macro or a rule.
type item struct {
	List      string     `json:"list"`
	Items     []string   `json:"items"`
	Macro     string     `json:"macro"`
	Rule      string     `json:"rule"`
	Severity  string     `json:"severity"`
	Why       string     `json:"why"`
	Condition string     `json:"condition"`
	Threshold *threshold `json:"threshold"`
	// Enabled false turns a rule off: one of base's, by its name.
	Enabled *bool `json:"enabled"`
}

type threshold struct {
	Count  int    `json:"count"`
	Within string `json:"within"` // a Go duration: "10s"
}

// reserved are the names a condition's fields start with: no list or
// macro may hide them.
var reserved = []string{"evt", "proc", "fd", "fs", "user"}

// Load compiles the rule file data (name is for errors) over base, whose
// lists and macros it may use, and whose rules it keeps, but for those it
// names again (replaced) or turns off. base may be nil. A mistake is a
// *LoadError naming the line.
func Load(base *Rules, name string, data []byte) (*Rules, error) {
	rs := &Rules{lists: map[string][]string{}, macros: map[string]string{}}
	if base != nil {
		rs.rules = slices.Clone(base.rules)
		for k, v := range base.lists {
			rs.lists[k] = v
		}
		for k, v := range base.macros {
			rs.macros[k] = v
		}
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	fail := func(off int64, err error) error { return &LoadError{File: name, Line: lineAt(off), Err: err} }
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fail(dec.InputOffset(), errors.New("a rule file is a JSON list: [ {\"rule\": ...}, ... ]"))
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(jsonOffset(err, dec), err)
		}
		// The item starts where its text does, past the comma and spaces.
		start := dec.InputOffset() - int64(len(raw))
		var it item
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields() // a misspelt key is a mistake, not a default
		if err := strict.Decode(&it); err != nil {
			return nil, fail(start+jsonOffset(err, strict), err)
		}
		// A condition's mistake is on the line of its key.
		condLine := start + int64(max(0, bytes.Index(raw, []byte(`"condition"`))))
		if err := rs.add(&it); err != nil {
			var ce *conditionError
			if errors.As(err, &ce) {
				return nil, fail(condLine, err)
			}
			return nil, fail(start, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(jsonOffset(err, dec), err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fail(dec.InputOffset(), errors.New("text after the list"))
	}
	return rs, nil
}

// jsonOffset is where encoding/json found a mistake.
func jsonOffset(err error, dec *json.Decoder) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return se.Offset
	case errors.As(err, &te):
		return te.Offset
	}
	return dec.InputOffset()
}

// conditionError is a condition that does not compile.
type conditionError struct {
	err error
}

func (c *conditionError) Error() string {
	var fe *file.Error
	if errors.As(c.err, &fe) {
		// expr's own text spans lines (a snippet and a caret): one line,
		// with the column in the condition.
		return fmt.Sprintf("condition: %s (column %d)", fe.Message, fe.Column+1)
	}
	return "condition: " + c.err.Error()
}

func (rs *Rules) add(it *item) error {
	kinds := 0
	for _, n := range []string{it.List, it.Macro, it.Rule} {
		if n != "" {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New(`an item is one of {"list": NAME, ...}, {"macro": NAME, ...} or {"rule": NAME, ...}`)
	}
	switch {
	case it.List != "":
		if err := rs.newName(it.List); err != nil {
			return err
		}
		rs.lists[it.List] = it.Items
	case it.Macro != "":
		if err := rs.newName(it.Macro); err != nil {
			return err
		}
		// Checked now, so that a mistake names the macro's line.
		if _, _, err := rs.compile(it.Condition, nil); err != nil {
			return &conditionError{err}
		}
		rs.macros[it.Macro] = it.Condition
	default:
		return rs.addRule(it)
	}
	return nil
}

// newName refuses a list or macro name that is taken or that hides a field.
func (rs *Rules) newName(n string) error {
	_, list := rs.lists[n]
	_, macro := rs.macros[n]
	switch {
	case slices.Contains(reserved, n):
		return fmt.Errorf("%q is a field: no list or macro may take its name", n)
	case list || macro:
		return fmt.Errorf("%q is defined already", n)
	}
	return nil
}

func (rs *Rules) addRule(it *item) error {
	at := slices.IndexFunc(rs.rules, func(r *Rule) bool { return r.Name == it.Rule })
	if it.Enabled != nil && !*it.Enabled {
		if at < 0 {
			return fmt.Errorf("rule %q: no such rule to turn off", it.Rule)
		}
		rs.rules = slices.Delete(rs.rules, at, at+1)
		return nil
	}
	if it.Why == "" || it.Condition == "" || it.Severity == "" {
		return fmt.Errorf("rule %q needs severity, why and condition", it.Rule)
	}
	sev, err := ParseSeverity(it.Severity)
	if err != nil {
		return fmt.Errorf("rule %q: %w", it.Rule, err)
	}
	r := &Rule{Name: it.Rule, Severity: sev, Why: it.Why, Condition: it.Condition}
	if t := it.Threshold; t != nil {
		within, err := time.ParseDuration(t.Within)
		if err != nil || within <= 0 || t.Count < 2 || t.Count > maxThreshold {
			return fmt.Errorf("rule %q: threshold needs count 2..%d and a positive within (\"10s\")", it.Rule, maxThreshold)
		}
		r.Threshold = &Threshold{Count: t.Count, Within: within}
	}
	var tree ast.Node
	if r.prog, tree, err = rs.compile(it.Condition, nil); err != nil {
		return &conditionError{err}
	}
	r.types, r.args = callTypes(tree), readsArgs(tree)
	if r.types != nil {
		r.progs = make(map[string]*vm.Program, len(r.types))
		for _, t := range r.types {
			if r.progs[t], _, err = rs.compile(it.Condition, []string{t}); err != nil {
				return &conditionError{err}
			}
		}
	}
	if at >= 0 {
		rs.rules[at] = r // a rule named again replaces the one loaded before
	} else {
		rs.rules = append(rs.rules, r)
	}
	return nil
}

// compile compiles a condition for a call of types, or of any type when
// types is nil: its tests of evt.type that types decide are compiled as
// constants, so a rule run only on one call (Engine's index) tests none.
// It returns the condition's tree too, its lists and macros expanded.
func (rs *Rules) compile(cond string, types []string) (*vm.Program, ast.Node, error) {
	tree, err := parser.Parse(cond)
	if err != nil {
		return nil, nil, err
	}
	ast.Walk(&tree.Node, &expander{rs: rs})
	// Env as a value, though the engine runs it with a pointer: only for a
	// struct does expr resolve evt.type to a field index when compiling;
	// for a pointer it looks each name up by reflection on every call.
	prog, err := expr.Compile(cond, expr.Env(Env{}), expr.AsBool(),
		expr.Patch(&expander{rs: rs}), expr.Patch(&typeFolder{types: types}))
	if err != nil {
		return nil, nil, err
	}
	return prog, tree.Node, nil
}

// readsArgs says whether a condition reads evt.args, which the engine
// joins only then.
func readsArgs(n ast.Node) bool {
	v := &argsReader{}
	ast.Walk(&n, v)
	return v.found
}

type argsReader struct{ found bool }

func (v *argsReader) Visit(n *ast.Node) {
	if m, ok := (*n).(*ast.MemberNode); ok {
		id, ok1 := m.Node.(*ast.IdentifierNode)
		p, ok2 := m.Property.(*ast.StringNode)
		v.found = v.found || ok1 && ok2 && id.Value == "evt" && p.Value == "args"
	}
}

// typeFolder replaces a test of evt.type by its value where the rule's
// calls decide it: true when every one passes, false when none does.
type typeFolder struct{ types []string }

func (f *typeFolder) Visit(n *ast.Node) {
	set := typeTest(*n)
	if set == nil || f.types == nil {
		return
	}
	all, none := true, true
	for _, t := range f.types {
		if slices.Contains(set, t) {
			none = false
		} else {
			all = false
		}
	}
	switch {
	case all:
		ast.Patch(n, &ast.BoolNode{Value: true})
	case none:
		ast.Patch(n, &ast.BoolNode{Value: false})
	}
}

// expander replaces a list's name by its items and a macro's name by its
// condition.
type expander struct{ rs *Rules }

func (x *expander) Visit(n *ast.Node) {
	id, ok := (*n).(*ast.IdentifierNode)
	if !ok {
		return
	}
	if items, ok := x.rs.lists[id.Value]; ok {
		arr := &ast.ArrayNode{Nodes: make([]ast.Node, len(items))}
		for i, s := range items {
			arr.Nodes[i] = &ast.StringNode{Value: s}
		}
		ast.Patch(n, arr)
		return
	}
	if m, ok := x.rs.macros[id.Value]; ok {
		// A macro was checked when it was defined, with the macros before
		// it: it parses, and expands without a cycle.
		tree, err := parser.Parse(m)
		if err != nil {
			return
		}
		ast.Walk(&tree.Node, x)
		ast.Patch(n, tree.Node)
	}
}

// callTypes are the calls a condition can hold for, when it requires
// evt.type to be one of them (== or in, under and/or); nil when it can
// hold for any.
func callTypes(n ast.Node) []string {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "and", "&&":
			l, r := callTypes(n.Left), callTypes(n.Right)
			switch {
			case l == nil:
				return r
			case r == nil:
				return l
			}
			return slices.DeleteFunc(l, func(t string) bool { return !slices.Contains(r, t) })
		case "or", "||":
			l, r := callTypes(n.Left), callTypes(n.Right)
			if l == nil || r == nil {
				return nil
			}
			return append(l, r...)
		}
	}
	return typeTest(n)
}

// typeTest is the calls a test of evt.type (evt.type == 'x', evt.type in
// ['x', 'y']) passes; nil when n is no such test.
func typeTest(n ast.Node) []string {
	b, ok := n.(*ast.BinaryNode)
	if !ok || !isEvtType(b.Left) {
		return nil
	}
	switch b.Operator {
	case "==":
		if s, ok := b.Right.(*ast.StringNode); ok {
			return []string{s.Value}
		}
	case "in":
		arr, ok := b.Right.(*ast.ArrayNode)
		if !ok {
			return nil
		}
		types := []string{}
		for _, e := range arr.Nodes {
			s, ok := e.(*ast.StringNode)
			if !ok {
				return nil
			}
			types = append(types, s.Value)
		}
		return types
	}
	return nil
}

func isEvtType(n ast.Node) bool {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return false
	}
	id, ok1 := m.Node.(*ast.IdentifierNode)
	p, ok2 := m.Property.(*ast.StringNode)
	return ok1 && ok2 && id.Value == "evt" && p.Value == "type"
}
