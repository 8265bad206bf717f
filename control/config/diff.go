package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ChangeOp says what happened to an object between two configurations.
type ChangeOp uint8

const (
	Added ChangeOp = iota + 1
	Removed
	Modified
)

var changeOpNames = []string{Added: "added", Removed: "removed", Modified: "modified"}

func (o ChangeOp) String() string               { return enumString(changeOpNames, o) }
func (o ChangeOp) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Object is the kind of thing a Change is about.
type Object string

const (
	ObjSetting   Object = "setting" // dataplane.shm, api.socket, metrics.listen, proxy
	ObjPort      Object = "port"
	ObjLocalPool Object = "local_pool"
	ObjService   Object = "service"
	ObjBackend   Object = "backend"
)

// Change is one difference between two configurations.
type Change struct {
	Op      ChangeOp
	Object  Object
	Service string        // for backends, the service they belong to
	Name    string        // the object's name; for settings, the key ("api.socket")
	Fields  []FieldChange // Modified only: what changed
}

// FieldChange is one key whose value changed, both values written as in messages.
type FieldChange struct {
	Field    string // the YAML key, dotted below the object: "health_check.interval"
	Old, New string
}

func (f FieldChange) String() string { return fmt.Sprintf("%s %s → %s", f.Field, f.Old, f.New) }

// String writes a change on one line: "+ service web", "- backend web/rs1",
// "~ backend web/rs2: weight 100 → 50".
func (c Change) String() string {
	sign := map[ChangeOp]string{Added: "+", Removed: "-", Modified: "~"}[c.Op]
	name := c.Name
	if c.Object == ObjBackend {
		name = c.Service + "/" + c.Name
	}
	s := fmt.Sprintf("%s %s %s", sign, c.Object, name)
	if len(c.Fields) > 0 {
		parts := make([]string, len(c.Fields))
		for i, f := range c.Fields {
			parts[i] = f.String()
		}
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// Diff lists what changed from old to c: settings, ports, local pools, services and
// backends, each added, removed or modified (with the keys that changed). Objects are matched
// by name. A backend's health check changes that only follow its service's check are left
// to the service's entry. The order is stable: settings, ports, pools, services, each in c's
// order followed by the removed ones in old's order.
func (c *Config) Diff(old *Config) []Change {
	var out []Change
	for _, s := range []struct {
		key      string
		old, new string
	}{
		{"dataplane.shm", render(reflect.ValueOf(old.Dataplane.SHM)), render(reflect.ValueOf(c.Dataplane.SHM))},
		{"api.socket", render(reflect.ValueOf(old.API.Socket)), render(reflect.ValueOf(c.API.Socket))},
		{"metrics.listen", render(reflect.ValueOf(old.Metrics.Listen)), render(reflect.ValueOf(c.Metrics.Listen))},
		{"proxy", renderNode(old.Proxy), renderNode(c.Proxy)},
	} {
		if s.old != s.new {
			out = append(out, Change{Op: Modified, Object: ObjSetting, Name: s.key, Fields: []FieldChange{{s.key, s.old, s.new}}})
		}
	}
	portName := func(p *Port) string { return p.Name }
	out = diffByName(out, ObjPort, "", old.Dataplane.Ports, c.Dataplane.Ports, portName, func(o, n *Port) []FieldChange {
		fcs := structDiff("", reflect.ValueOf(*o), reflect.ValueOf(*n))
		if o.Index != n.Index {
			fcs = append([]FieldChange{{"index", strconv.Itoa(o.Index), strconv.Itoa(n.Index)}}, fcs...)
		}
		return fcs
	})
	out = diffByName(out, ObjLocalPool, "", old.LocalPools, c.LocalPools, func(p *LocalPool) string { return p.Name },
		func(o, n *LocalPool) []FieldChange { return structDiff("", reflect.ValueOf(*o), reflect.ValueOf(*n)) })
	svcName := func(s *Service) string { return s.Name }
	for _, ch := range diffByName(nil, ObjService, "", old.Services, c.Services, svcName, serviceDiff) {
		ch.Service = ch.Name
		out = append(out, ch)
		if ch.Op == Modified {
			out = append(out, backendChanges(old.Service(ch.Name), c.Service(ch.Name), ch.Fields)...)
		}
	}
	return dropUnchanged(out)
}

// dropUnchanged removes the Modified entries with no field changes: diffByName emits them so
// that a service's backends are still compared when the service's own keys are the same.
func dropUnchanged(changes []Change) []Change {
	return slices.DeleteFunc(changes, func(c Change) bool { return c.Op == Modified && len(c.Fields) == 0 })
}

// Equal reports whether c and o configure the same thing (File aside).
func (c *Config) Equal(o *Config) bool { return len(c.Diff(o)) == 0 }

// Equal reports whether s and o are the same service, backends included.
func (s *Service) Equal(o *Service) bool {
	return len(serviceDiff(o, s)) == 0 && len(backendChanges(o, s, nil)) == 0
}

// Equal reports whether b and o are the same backend.
func (b *Backend) Equal(o *Backend) bool {
	return len(structDiff("", reflect.ValueOf(*o), reflect.ValueOf(*b))) == 0
}

// ChangedServices names the services of c whose dataplane state differs from old's: added or
// modified services, services with added, removed or modified backends, and services using a
// port or local pool that changed. The publisher rebuilds only these.
func (c *Config) ChangedServices(old *Config) []string {
	changes := c.Diff(old)
	touched := map[string]bool{}
	ports := map[string]bool{}
	pools := map[string]bool{}
	for _, ch := range changes {
		switch ch.Object {
		case ObjService, ObjBackend:
			touched[ch.Service] = true
		case ObjPort:
			ports[ch.Name] = true
		case ObjLocalPool:
			pools[ch.Name] = true
		}
	}
	var out []string
	for i := range c.Services {
		s := &c.Services[i]
		uses := touched[s.Name] || ports[s.IngressPort.Name] || ports[s.EgressPort.Name] || pools[s.LocalPool]
		for _, b := range s.Backends {
			uses = uses || ports[b.EgressPort.Name]
		}
		if uses {
			out = append(out, s.Name)
		}
	}
	return out
}

// serviceDiff compares two services without their backends (the fallback included, less
// the check changes it only inherited).
func serviceDiff(o, n *Service) []FieldChange {
	fcs := structDiff("", reflect.ValueOf(*o), reflect.ValueOf(*n))
	return slices.DeleteFunc(fcs, func(fc FieldChange) bool {
		own, ok := strings.CutPrefix(fc.Field, "fallback.")
		return ok && inherited(FieldChange{own, fc.Old, fc.New}, fcs)
	})
}

// inherited reports whether fc is a health check change that svcFields has too: one a backend
// took over from its service.
func inherited(fc FieldChange, svcFields []FieldChange) bool {
	return strings.HasPrefix(fc.Field, "health_check.") && slices.Contains(svcFields, fc)
}

// backendChanges diffs the backends of a service present in both configurations. svcFields
// are the service's own changes: a backend whose check moved exactly as the service's did
// only inherited it, and saying so once, on the service, is enough.
func backendChanges(o, n *Service, svcFields []FieldChange) []Change {
	name := func(b *Backend) string { return b.Name }
	changes := diffByName(nil, ObjBackend, n.Name, o.Backends, n.Backends, name, func(ob, nb *Backend) []FieldChange {
		fcs := structDiff("", reflect.ValueOf(*ob), reflect.ValueOf(*nb))
		return slices.DeleteFunc(fcs, func(fc FieldChange) bool { return inherited(fc, svcFields) })
	})
	return dropUnchanged(changes)
}

// diffByName matches objects by name and appends their changes to out. Objects present in
// both yield a Modified change, with no fields when nothing changed (see dropUnchanged).
func diffByName[T any](out []Change, obj Object, service string, old, cur []T, name func(*T) string, fields func(o, n *T) []FieldChange) []Change {
	oldByName := map[string]*T{}
	for i := range old {
		oldByName[name(&old[i])] = &old[i]
	}
	seen := map[string]bool{}
	for i := range cur {
		n := name(&cur[i])
		seen[n] = true
		o, ok := oldByName[n]
		switch {
		case !ok:
			out = append(out, Change{Op: Added, Object: obj, Service: service, Name: n})
		default:
			out = append(out, Change{Op: Modified, Object: obj, Service: service, Name: n, Fields: fields(o, &cur[i])})
		}
	}
	for i := range old {
		if n := name(&old[i]); !seen[n] {
			out = append(out, Change{Op: Removed, Object: obj, Service: service, Name: n})
		}
	}
	return out
}

// structDiff compares two values of one struct type field by field, naming fields by their
// yaml tags, descending into nested structs and pointers to them. Fields tagged "-" and
// backends (diffed by name) are skipped. Values compare by how they are
// written, so a PortRef compares by name: its index follows the ports, diffed on their own.
func structDiff(prefix string, o, n reflect.Value) []FieldChange {
	var out []FieldChange
	t := o.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "-" || key == "" {
			continue
		}
		ov, nv := o.Field(i), n.Field(i)
		switch {
		case f.Type == reflect.TypeFor[[]Backend]():
			continue
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.Type != reflect.TypeFor[*yaml.Node]():
			if ov.IsNil() || nv.IsNil() {
				if ov.IsNil() != nv.IsNil() {
					out = append(out, FieldChange{prefix + key, renderPtr(ov), renderPtr(nv)})
				}
				continue
			}
			out = append(out, structDiff(prefix+key+".", ov.Elem(), nv.Elem())...)
		case f.Type.Kind() == reflect.Struct && !isStringer(f.Type) && !hasIsValid(f.Type):
			out = append(out, structDiff(prefix+key+".", ov, nv)...)
		default:
			if a, b := render(ov), render(nv); a != b {
				out = append(out, FieldChange{prefix + key, a, b})
			}
		}
	}
	return out
}

func isStringer(t reflect.Type) bool { return t.Implements(reflect.TypeFor[fmt.Stringer]()) }

func hasIsValid(t reflect.Type) bool { _, ok := t.MethodByName("IsValid"); return ok }

func renderPtr(v reflect.Value) string {
	if v.IsNil() {
		return "none"
	}
	if b, ok := v.Interface().(*Backend); ok {
		return b.Name + " " + b.Address.String()
	}
	return "set"
}

// render writes a value as messages and `tenbin config diff` show it.
func render(v reflect.Value) string {
	if m := v.MethodByName("IsValid"); m.IsValid() && !m.Call(nil)[0].Bool() {
		return "none"
	}
	switch x := v.Interface().(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Duration:
		return fmtDuration(x)
	case []netip.Addr:
		parts := make([]string, len(x))
		for i, a := range x {
			parts[i] = a.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case interface{ String() string }:
		if s := x.String(); s != "" {
			return s
		}
		return "none"
	}
	return fmt.Sprint(v.Interface())
}

func renderNode(n *yaml.Node) string {
	if n == nil {
		return "none"
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Sprintf("unprintable (%v)", err)
	}
	return strings.TrimSpace(string(b))
}
