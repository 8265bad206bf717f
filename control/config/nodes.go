package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parser walks yaml.Nodes (not yaml's struct decoding) so that every problem it finds carries
// the node's position, and it keeps going after a problem so that all of them are reported.
type parser struct {
	file string
	errs Errors
	// bad holds the nodes already reported, so that checks between keys skip values that
	// were wrong (and left at their default) instead of piling a second, misleading error
	// on the first.
	bad map[*yaml.Node]bool
}

// errorf reports a value that could not be read; the node is marked bad.
func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.conflictf(n, format, args...)
	if n != nil {
		if p.bad == nil {
			p.bad = map[*yaml.Node]bool{}
		}
		p.bad[n] = true
	}
}

// conflictf reports values that were read but do not go together; nodes stay usable for
// other checks.
func (p *parser) conflictf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// good reports whether each key is written in fs with a value that was read without error.
func (p *parser) good(fs fields, keys ...string) bool {
	for _, k := range keys {
		f, ok := fs[k]
		if !ok || p.bad[resolve(f.value)] {
			return false
		}
	}
	return true
}

// notBad reports whether none of the keys that are written in fs had a wrong value.
func (p *parser) notBad(fs fields, keys ...string) bool {
	for _, k := range keys {
		if f, ok := fs[k]; ok && p.bad[resolve(f.value)] {
			return false
		}
	}
	return true
}

// at renders n's position for "(also at ...)" messages.
func (p *parser) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", p.file, n.Line, n.Column)
}

// result sorts the errors and drops repeats (an anchor used twice is checked twice).
func (p *parser) result() error {
	if len(p.errs) == 0 {
		return nil
	}
	p.errs.sort()
	p.errs = slices.CompactFunc(p.errs, func(a, b *Error) bool { return *a == *b })
	return p.errs
}

// field is one key of a mapping and its value.
type field struct{ key, value *yaml.Node }

// fields are the keys a mapping wrote. A nil fields (the node was not a mapping) reads as
// empty, so callers need not check before looking keys up.
type fields map[string]field

func (fs fields) has(key string) bool { _, ok := fs[key]; return ok }

// value returns the value node of key, or nil.
func (fs fields) value(key string) *yaml.Node { return fs[key].value }

// keyOr returns key's key node, or fallback when the key is absent: where to report a problem
// with the key as a whole.
func (fs fields) keyOr(key string, fallback *yaml.Node) *yaml.Node {
	if f, ok := fs[key]; ok {
		return f.key
	}
	return fallback
}

// valueOr returns key's value node, or fallback when the key is absent.
func (fs fields) valueOr(key string, fallback *yaml.Node) *yaml.Node {
	if f, ok := fs[key]; ok {
		return f.value
	}
	return fallback
}

// set lists the keys written, for the derive functions in defaults.go.
func (fs fields) set() map[string]bool {
	out := make(map[string]bool, len(fs))
	for k := range fs {
		out[k] = true
	}
	return out
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// mapping checks that n is a mapping whose keys are all in known, each written once, and
// returns them. what names the mapping in messages ("in service"); "" is the top level, where
// keys starting with extensionPrefix are skipped. YAML merge keys (<<) are
// honoured: explicit keys win over merged ones, earlier merges over later ones. A null node
// (the key was written with nothing after it) or absent (nil) one is an empty mapping.
func (p *parser) mapping(n *yaml.Node, what string, known ...string) fields {
	n = resolve(n)
	if n == nil || isNull(n) {
		return fields{}
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", cmp.Or(what, "the configuration"), describe(n))
		return nil
	}
	fs := fields{}
	var merged []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merged = append(merged, p.mergeSources(v, what)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "keys %s must be plain words, got %s", in(what), describe(k))
			continue
		}
		if prev, dup := fs[k.Value]; dup {
			p.errorf(k, "duplicate key %q %s (also at %s)", k.Value, in(what), p.at(prev.key))
			continue
		}
		if what == "" && strings.HasPrefix(k.Value, extensionPrefix) {
			continue
		}
		if !slices.Contains(known, k.Value) {
			p.errorf(k, "unknown key %q %s%s", k.Value, in(what), didYouMean(k.Value, known))
			continue
		}
		fs[k.Value] = field{k, v}
	}
	for _, f := range merged {
		if _, ok := fs[f.key.Value]; ok {
			continue
		}
		if !slices.Contains(known, f.key.Value) {
			p.errorf(f.key, "unknown key %q %s%s", f.key.Value, in(what), didYouMean(f.key.Value, known))
			continue
		}
		fs[f.key.Value] = f
	}
	return fs
}

// mergeSources flattens the value of a << key (one mapping or a list of them) into pairs.
// visiting guards against a mapping that merges itself through an alias.
func (p *parser) mergeSources(v *yaml.Node, what string, visiting ...*yaml.Node) []field {
	v = resolve(v)
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	var out []field
	for _, src := range sources {
		src = resolve(src)
		if src.Kind != yaml.MappingNode {
			p.errorf(src, "<< %s must merge a mapping, got %s", in(what), describe(src))
			continue
		}
		if slices.Contains(visiting, src) {
			p.errorf(src, "<< %s merges a mapping into itself", in(what))
			continue
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			if src.Content[i].Tag == "!!merge" {
				out = append(out, p.mergeSources(src.Content[i+1], what, append(visiting, src)...)...)
				continue
			}
			out = append(out, field{src.Content[i], src.Content[i+1]})
		}
	}
	return out
}

// extensionPrefix marks top-level keys tenbin ignores, a home for YAML anchors (as in Compose
// files): "x-checks: {web: &web {kind: http}}".
const extensionPrefix = "x-"

func in(what string) string {
	if what == "" {
		return "at the top level"
	}
	return "in " + what
}

// sequence checks that n is a list and returns its items (aliases resolved). Absent (nil) or null is empty.
func (p *parser) sequence(n *yaml.Node, key string) []*yaml.Node {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, got %s", key, describe(n))
		return nil
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		items[i] = resolve(item)
	}
	return items
}

// required reports a missing key and tells the caller whether it is present.
func (p *parser) required(fs fields, n *yaml.Node, what, key string) bool {
	if fs == nil {
		return false
	}
	if !fs.has(key) {
		p.errorf(n, "%s is missing required key %q", what, key)
		return false
	}
	return true
}

// didYouMean suggests the closest known word: a word the input is a prefix of, or one within
// a couple of edits. It returns "" when nothing is close.
func didYouMean(got string, known []string) string {
	got = strings.ToLower(got)
	best, bestDist := "", 3
	if len(got) <= 3 {
		bestDist = 2
	}
	for _, k := range known {
		lk := strings.ToLower(k)
		d := editDistance(got, lk)
		if len(got) >= 3 && strings.HasPrefix(lk, got) {
			d = 1
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the optimal-string-alignment distance between a and b: insertions,
// deletions, substitutions and swaps of neighbours ("lna" is one step from "lan").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// Readers for an optional key: ok is false when the key is absent or its value is wrong (and
// then reported), so the caller keeps its default.

func (p *parser) intKey(fs fields, key string, lo, hi int64) (int64, bool) {
	if f, ok := fs[key]; ok {
		return p.integer(f.value, key, lo, hi)
	}
	return 0, false
}

func (p *parser) boolKey(fs fields, key string) (bool, bool) {
	if f, ok := fs[key]; ok {
		return p.boolean(f.value, key)
	}
	return false, false
}

func (p *parser) strKey(fs fields, key string) (string, bool) {
	if f, ok := fs[key]; ok {
		return p.str(f.value, key)
	}
	return "", false
}

func (p *parser) durationKey(fs fields, key string, lo, hi time.Duration) (time.Duration, bool) {
	if f, ok := fs[key]; ok {
		return p.duration(f.value, key, lo, hi)
	}
	return 0, false
}

func enumKey[T enum](p *parser, fs fields, key string, names []string, dst *T) {
	if f, ok := fs[key]; ok {
		if v, ok := enumValue[T](p, f.value, key, names); ok {
			*dst = v
		}
	}
}
