package proxy

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidConfig wraps every problem found in a `proxy:` section.
var ErrInvalidConfig = errors.New("invalid proxy config")

// Parse decodes and validates the `proxy:` mapping node of a tenbin YAML file. file names the
// file in error messages. Unknown keys, wrong types and invalid values are all reported at
// once, each as file:line:col.
func Parse(node *yaml.Node, file string) (*Config, error) {
	if node == nil {
		return nil, fmt.Errorf("%w: %s: no proxy section", ErrInvalidConfig, file)
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	var errs []error
	cfg := &Config{file: file}
	decoded := true
	if err := node.Decode(cfg); err != nil {
		decoded = false // values may be half set: validating them would mislead
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				errs = append(errs, fmt.Errorf("%s:%s", file, strings.TrimPrefix(e, "line ")))
			}
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
		}
	}
	cfg.file = file
	walkNode(node, reflect.ValueOf(cfg).Elem(), file, &errs)
	if decoded {
		cfg.applyDefaults()
		errs = append(errs, cfg.validate()...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrInvalidConfig, errors.Join(errs...))
	}
	return cfg, nil
}

// LoadFile reads a tenbin YAML file and parses only its `proxy:` key; other top-level keys
// belong to other components and are ignored.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load proxy config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s: top level is not a mapping", ErrInvalidConfig, path)
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "proxy" {
			return Parse(top.Content[i+1], path)
		}
	}
	return nil, fmt.Errorf("%w: %s: no proxy section", ErrInvalidConfig, path)
}

// walkNode goes through node alongside the value it was decoded into: it reports every
// mapping key that names no field (yaml.v3's KnownFields exists only on a Decoder over bytes,
// which would lose the positions of a node handed to us by the config package), and records
// each struct's position in its Pos field.
func walkNode(node *yaml.Node, v reflect.Value, file string, errs *[]error) {
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v = reflect.New(v.Type().Elem()).Elem() // not decoded (type error): check keys only
		} else {
			v = v.Elem()
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return // yaml.v3 reports the type mismatch itself
		}
		if pos := v.FieldByName("Pos"); pos.IsValid() && pos.CanSet() {
			pos.Set(reflect.ValueOf(Position{node.Line, node.Column}))
		}
		fields := yamlFields(v.Type())
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, val := node.Content[i], node.Content[i+1]
			if k.Value == "<<" { // merge key: its mapping fills the same struct
				walkNode(val, v, file, errs)
				continue
			}
			idx, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s:%d:%d: unknown key %q", file, k.Line, k.Column, k.Value))
				continue
			}
			walkNode(val, v.Field(idx), file, errs)
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range node.Content {
			if i < v.Len() {
				walkNode(item, v.Index(i), file, errs)
			} else {
				walkNode(item, reflect.New(v.Type().Elem()).Elem(), file, errs)
			}
		}
	}
}

// yamlFields maps the yaml key of every exported field of struct type t to its index.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}
