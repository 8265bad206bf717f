package daemon

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"tenbin/control/config"
)

// DiffConfigs lists what changes from old to next, one line each, in the file's terms:
//
//   - service web (198.18.1.10 tcp/80)
//   - backend web/rs3 (198.18.0.13)
//     ~ backend web/rs1: weight: 100 → 50
//     ~ dataplane: ports: [...] → [...]
//
// Services and backends are matched by name, so reordering them changes nothing.
func DiffConfigs(old, next *config.Config) []string {
	var out []string
	section := func(name string, a, b any) {
		for _, d := range fieldDiffs("", reflect.ValueOf(a), reflect.ValueOf(b)) {
			out = append(out, fmt.Sprintf("~ %s: %s", name, d))
		}
	}
	section("dataplane", old.Dataplane, next.Dataplane)
	section("api", old.API, next.API)
	section("metrics", old.Metrics, next.Metrics)
	if !reflect.DeepEqual(old.LocalPools, next.LocalPools) {
		out = append(out, fmt.Sprintf("~ local_pools: %s → %s", pools(old.LocalPools), pools(next.LocalPools)))
	}
	if !yamlEqual(old.Proxy, next.Proxy) {
		out = append(out, "~ proxy: changed")
	}
	for i := range old.Services {
		if next.Service(old.Services[i].Name) == nil {
			out = append(out, fmt.Sprintf("- service %s (%s)", old.Services[i].Name, old.Services[i].Key()))
		}
	}
	for i := range next.Services {
		s := &next.Services[i]
		o := old.Service(s.Name)
		if o == nil {
			out = append(out, fmt.Sprintf("+ service %s (%s, %d backends)", s.Name, s.Key(), len(s.Backends)))
			continue
		}
		out = append(out, serviceDiff(o, s)...)
	}
	return out
}

func serviceDiff(o, s *config.Service) []string {
	var out []string
	oc, sc := *o, *s
	oc.Backends, sc.Backends = nil, nil
	for _, d := range fieldDiffs("", reflect.ValueOf(oc), reflect.ValueOf(sc)) {
		out = append(out, fmt.Sprintf("~ service %s: %s", s.Name, d))
	}
	for i := range o.Backends {
		if s.Backend(o.Backends[i].Name) == nil {
			out = append(out, fmt.Sprintf("- backend %s/%s (%s)", s.Name, o.Backends[i].Name, o.Backends[i].Address))
		}
	}
	for i := range s.Backends {
		b := &s.Backends[i]
		ob := o.Backend(b.Name)
		if ob == nil {
			out = append(out, fmt.Sprintf("+ backend %s/%s (%s)", s.Name, b.Name, b.Address))
			continue
		}
		for _, d := range fieldDiffs("", reflect.ValueOf(*ob), reflect.ValueOf(*b)) {
			out = append(out, fmt.Sprintf("~ backend %s/%s: %s", s.Name, b.Name, d))
		}
	}
	return out
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	stringer      = reflect.TypeFor[fmt.Stringer]()
)

// fieldDiffs compares two values of one struct type field by field, by YAML key, and
// descends into nested sections (timeouts, health_check, ...).
func fieldDiffs(prefix string, a, b reflect.Value) []string {
	if a.Kind() == reflect.Pointer {
		switch {
		case a.IsNil() && b.IsNil():
			return nil
		case a.IsNil() || b.IsNil():
			return []string{fmt.Sprintf("%s: %s → %s", strings.TrimSuffix(prefix, "."), show(a), show(b))}
		}
		a, b = a.Elem(), b.Elem()
	}
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || key == "-" || key == "" {
			continue
		}
		av, bv := a.Field(i), b.Field(i)
		if reflect.DeepEqual(av.Interface(), bv.Interface()) {
			continue
		}
		if nested(f.Type) {
			out = append(out, fieldDiffs(prefix+key+".", av, bv)...)
			continue
		}
		out = append(out, fmt.Sprintf("%s%s: %s → %s", prefix, key, show(av), show(bv)))
	}
	return out
}

// nested reports whether a field is a section to descend into rather than a value.
func nested(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !t.Implements(textMarshaler) && !t.Implements(stringer) &&
		!reflect.PointerTo(t).Implements(textMarshaler)
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return "none"
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case config.PortRef:
		return x.Name
	case config.Backend:
		return fmt.Sprintf("%s (%s)", x.Name, x.Address)
	case string:
		return fmt.Sprintf("%q", x)
	}
	if v.Kind() == reflect.Slice && v.Len() == 0 {
		return "[]"
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !nested(v.Type().Elem()) {
		return fmt.Sprint(v.Interface())
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
		return fmt.Sprintf("%d entries", v.Len())
	}
	return fmt.Sprint(v.Interface())
}

func pools(ps []config.LocalPool) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s%v", p.Name, p.Addresses)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// yamlEqual compares two sections by content, ignoring positions and comments.
func yamlEqual(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
