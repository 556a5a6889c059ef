// The binary form of a compiled Program that the policy cache stores.

package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
)

// A snapshot is everything Compile derived from a policy set, minus the
// compiled patterns: each rule keeps its conditions as written, plus the
// anchors and flags the rule index needs, so a Program rebuilt from it runs
// the same index code and decodes and compiles each rule's conditions on
// first use (see [rule.conditions]). The prefilter of the unanchored rules
// (Program.unanchoredArgs) is stored with each pattern's place in it, and
// each pattern compiles on its first use. Most decisions reach a dozen of
// some 130 rules, so a Program read from the cache decodes and compiles
// little more than those. Only what a validated load produced is ever
// encoded.
//
// The encoding is a sequence of unsigned varints (counts, indexes, lines,
// enums), signed varints (priorities) and length-prefixed strings, in the
// order encodeSnapshot writes them; a rule's conditions are one
// length-prefixed string, decoded by decodeConds. The cache key names the
// executable's build, so no build reads another's snapshots;
// snapshotFormat also names the format in each file, for anyone looking at
// one.
const snapshotFormat = 2

// encodeSnapshot appends p's snapshot to buf.
func encodeSnapshot(buf []byte, p *Program) []byte {
	e := snapshotEncoder{buf: buf}
	e.uint(uint64(p.defaultAction))
	e.string(p.defaultFrom)
	e.strings(p.warnings)
	e.uint(uint64(len(p.sources)))
	for _, s := range p.sources {
		e.string(s.Name)
		e.string(s.Path)
		e.string(s.Origin)
		e.uint(uint64(s.Policies))
		e.uint(uint64(s.Rules))
	}
	e.uint(uint64(len(p.policies)))
	for _, pol := range p.policies {
		e.string(pol.name)
		e.string(pol.source)
		e.string(pol.description)
		e.uint(uint64(pol.origin))
		e.int(int64(pol.priority))
		e.string(pol.path)
		e.globs(pol.tools)
		e.globs(pol.agents)
		e.globs(pol.sessions)
		e.uint(uint64(pol.firstRule))
		e.uint(uint64(pol.lastRule))
	}
	e.uint(uint64(len(p.rules)))
	for _, r := range p.rules {
		e.uint(uint64(r.policy.index))
		e.string(r.name)
		e.uint(uint64(r.action))
		e.string(r.message)
		e.string(r.file)
		e.uint(uint64(r.line))
		e.bool(r.hasCommandConds)
		e.bool(r.hasArgs)
		e.bool(r.anchors != nil)
		e.strings(r.anchors)
		e.string(string(encodeConds(r.conds.conds)))
	}
	// The rule index: what buildIndex computed from the rules.
	total := len(p.unanchored)
	for _, ids := range p.byName {
		total += len(ids)
	}
	for _, tool := range indexedTools {
		total += len(p.toolIndex[tool])
	}
	e.uint(uint64(total))
	e.uint(uint64(len(p.byName)))
	for _, key := range slices.Sorted(maps.Keys(p.byName)) {
		e.string(key)
		e.ints(p.byName[key])
	}
	e.ints(p.unanchored)
	for _, tool := range indexedTools {
		e.ints(p.toolIndex[tool])
	}
	// The unanchored rules' prefilter: each pattern with its place.
	var entries int
	p.unanchoredArgSet().each(func(int, string, string, *pathGlob) { entries++ })
	e.uint(uint64(entries))
	p.unanchoredArgSet().each(func(bucket int, key, aux string, pg *pathGlob) {
		e.uint(uint64(bucket))
		e.string(key)
		e.string(aux)
		e.string(pg.src)
	})
	return e.buf
}

// encodeConds encodes a rule's conditions for decodeConds.
func encodeConds(conds []*condDef) []byte {
	e := snapshotEncoder{}
	e.uint(uint64(len(conds)))
	for _, c := range conds {
		e.string(c.key)
		e.bool(c.flag)
		e.strings(c.values)
		names := make([]string, 0, len(c.params))
		for name := range c.params {
			names = append(names, name)
		}
		sort.Strings(names)
		e.uint(uint64(len(names)))
		for _, name := range names {
			e.string(name)
			e.string(c.params[name].src)
		}
	}
	return e.buf
}

type snapshotEncoder struct{ buf []byte }

func (e *snapshotEncoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *snapshotEncoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }

func (e *snapshotEncoder) bool(b bool) {
	if b {
		e.uint(1)
	} else {
		e.uint(0)
	}
}

func (e *snapshotEncoder) string(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *snapshotEncoder) strings(list []string) {
	e.uint(uint64(len(list)))
	for _, s := range list {
		e.string(s)
	}
}

func (e *snapshotEncoder) ints(list []int) {
	e.uint(uint64(len(list)))
	for _, v := range list {
		e.uint(uint64(v))
	}
}

// globs encodes the sources of globs compiled with no options.
func (e *snapshotEncoder) globs(list []*glob) {
	e.uint(uint64(len(list)))
	for _, g := range list {
		e.string(g.src)
	}
}

var errSnapshot = errors.New("malformed policy cache")

// decodeSnapshot rebuilds a Program from a snapshot, with home as its home
// directory. It returns an error, never panics, for any data that is not a
// snapshot encodeSnapshot wrote; the strings of the Program share data's
// memory.
func decodeSnapshot(data string, home string) (*Program, error) {
	d := &snapshotDecoder{data: data}
	p := &Program{home: home}
	p.defaultAction = d.action()
	p.defaultFrom = d.string()
	p.warnings = d.strings()
	p.sources = make([]SourceInfo, d.count())
	for i := range p.sources {
		p.sources[i] = SourceInfo{Name: d.string(), Path: d.string(), Origin: d.string(), Policies: d.int(), Rules: d.int()}
	}
	policies := make([]policy, d.count())
	p.policies = make([]*policy, len(policies))
	for i := range policies {
		pol := &policies[i]
		*pol = policy{name: d.string(), source: d.string(), description: d.string(), origin: d.origin(),
			priority: d.signed(), path: d.string(), index: i}
		pol.tools, pol.agents, pol.sessions = d.globs(), d.globs(), d.globs()
		pol.firstRule, pol.lastRule = d.int(), d.int()
		p.policies[i] = pol
	}
	n := d.count()
	rules, lazy := make([]rule, n), make([]lazyWhen, n)
	p.rules = make([]*rule, n)
	for id := range rules {
		r := &rules[id]
		r.id = id
		if pi := d.int(); pi < len(p.policies) {
			r.policy = p.policies[pi]
		} else {
			d.fail()
			break
		}
		r.name, r.action, r.message, r.file, r.line = d.string(), d.action(), d.string(), d.string(), d.int()
		r.hasCommandConds, r.hasArgs = d.bool(), d.bool()
		if hasAnchors := d.bool(); hasAnchors {
			r.anchors = d.strings()
			if len(r.anchors) == 0 {
				d.fail() // Compile never makes an empty anchor list
			}
		} else if d.count() != 0 {
			d.fail()
		}
		r.conds = &lazy[id]
		if r.conds.raw = d.string(); r.conds.raw == "" {
			d.fail() // a rule without conditions still has their count
		}
		p.rules[id] = r
	}
	d.index(p)
	p.unanchoredArgs = d.pathSet()
	p.unanchoredArgsOnce.Do(func() {})
	if d.err == nil && d.off != len(d.data) {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	// Every policy owns its range of rules, in order.
	next := 0
	for _, pol := range p.policies {
		if pol.firstRule != next || pol.lastRule < pol.firstRule || pol.lastRule > len(p.rules) {
			return nil, errSnapshot
		}
		for _, r := range p.rules[pol.firstRule:pol.lastRule] {
			if r.policy != pol {
				return nil, errSnapshot
			}
		}
		next = pol.lastRule
	}
	if next != len(p.rules) {
		return nil, errSnapshot
	}
	return p, nil
}

// snapshotDecoder reads a snapshot. After the first error every read
// returns a zero value and err says what went wrong.
type snapshotDecoder struct {
	data string
	off  int
	err  error
}

func (d *snapshotDecoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d", errSnapshot, d.off)
	}
	d.off = len(d.data)
}

func (d *snapshotDecoder) uint() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.off >= len(d.data) || shift > 63 {
			d.fail()
			return 0
		}
		b := d.data[d.off]
		d.off++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
}

func (d *snapshotDecoder) signed() int {
	u := d.uint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return int(v)
}

// int reads a non-negative int (a line, an index, a count of policies).
func (d *snapshotDecoder) int() int {
	v := d.uint()
	if v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(v)
}

// count reads a list length; every element takes at least one byte.
func (d *snapshotDecoder) count() int {
	n := d.int()
	if n > len(d.data)-d.off {
		d.fail()
		return 0
	}
	return n
}

func (d *snapshotDecoder) bool() bool {
	switch d.uint() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *snapshotDecoder) string() string {
	n := d.count()
	s := d.data[d.off : d.off+n]
	d.off += n
	return s
}

func (d *snapshotDecoder) strings() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

func (d *snapshotDecoder) action() Action {
	a := Action(d.uint())
	if a < ActionAllow || a > ActionDeny {
		d.fail()
		return ActionAllow
	}
	return a
}

func (d *snapshotDecoder) origin() Origin {
	o := Origin(d.uint())
	if o < OriginProfile || o > OriginProject {
		d.fail()
		return OriginProfile
	}
	return o
}

// globs reads and compiles a list that globs encoded.
func (d *snapshotDecoder) globs() []*glob {
	srcs := d.strings()
	if len(srcs) == 0 {
		return nil
	}
	out := make([]*glob, len(srcs))
	for i, s := range srcs {
		g, err := compileGlob(s, globOptions{})
		if err != nil {
			d.fail()
			return nil
		}
		out[i] = g
	}
	return out
}

// index reads the rule index into p: every list of rule ids sorted and
// within p.rules, every list of policy indexes within p.policies, all in
// one backing array.
func (d *snapshotDecoder) index(p *Program) {
	backing := make([]int, 0, d.count())
	ids := func(limit int) []int {
		n := d.count()
		if n == 0 || n > cap(backing)-len(backing) {
			if n != 0 {
				d.fail()
			}
			return nil
		}
		start := len(backing)
		for range n {
			v := d.int()
			if v >= limit || len(backing) > start && v <= backing[len(backing)-1] {
				d.fail()
				return nil
			}
			backing = append(backing, v)
		}
		return backing[start:len(backing):len(backing)]
	}
	keys := d.count()
	p.byName = make(map[string][]int, keys)
	for range keys {
		key := d.string()
		if list := ids(len(p.rules)); list != nil {
			p.byName[key] = list
		} else {
			d.fail()
		}
	}
	p.unanchored = ids(len(p.rules))
	p.isUnanchored = make([]bool, len(p.rules))
	for _, id := range p.unanchored {
		p.isUnanchored[id] = true
	}
	p.toolIndex = make(map[string][]int, len(indexedTools))
	for _, tool := range indexedTools {
		p.toolIndex[tool] = ids(len(p.policies))
	}
}

// pathSet reads the entries of a set that encodeSnapshot wrote, with each
// glob compiled on first use.
func (d *snapshotDecoder) pathSet() *pathSet {
	n := d.count()
	if n == 0 {
		return nil
	}
	s := &pathSet{}
	globs, lazies := make([]pathGlob, n), make([]lazyPathGlob, n)
	for i := range globs {
		bucket := d.int()
		if bucket >= bucketCount {
			d.fail()
			return nil
		}
		key, aux := d.string(), d.string()
		globs[i] = pathGlob{src: d.string(), lazy: &lazies[i]}
		s.add(bucket, key, aux, &globs[i])
	}
	return s
}

// decodeConds decodes what encodeConds wrote.
func decodeConds(data string) ([]*condDef, error) {
	d := &snapshotDecoder{data: data}
	defs := make([]condDef, d.count())
	conds := make([]*condDef, len(defs))
	for i := range defs {
		conds[i] = &defs[i]
		d.cond(conds[i])
	}
	if d.err == nil && d.off != len(d.data) {
		d.fail()
	}
	return conds, d.err
}

// cond reads a condition into c.
func (d *snapshotDecoder) cond(c *condDef) {
	c.key, c.flag, c.values = d.string(), d.bool(), d.strings()
	spec, ok := conditionSpecs[c.key]
	if !ok || len(c.values) > 0 && spec.kind != condList {
		d.fail()
		return
	}
	if n := d.count(); n > 0 {
		if spec.kind != condMap {
			d.fail()
			return
		}
		c.params = make(map[string]*glob, n)
		for range n {
			name, src := d.string(), d.string()
			g, err := compileGlob(src, globOptions{})
			if err != nil {
				d.fail()
				return
			}
			c.params[name] = g
		}
	} else if spec.kind == condMap {
		c.params = map[string]*glob{}
	}
}
