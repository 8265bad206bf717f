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
	checkKnownKeys(node, reflect.TypeFor[Config](), file, &errs)
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

// checkKnownKeys walks node alongside the Go type it will be decoded into and reports every
// mapping key that names no field. yaml.v3's KnownFields exists only on a Decoder over bytes,
// which would lose the positions of a node handed to us by the config package.
func checkKnownKeys(node *yaml.Node, t reflect.Type, file string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return // yaml.v3 reports the type mismatch itself
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			if k.Value == "<<" { // merge key: its mapping is checked against the same struct
				checkKnownKeys(v, t, file, errs)
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s:%d:%d: unknown key %q", file, k.Line, k.Column, k.Value))
				continue
			}
			checkKnownKeys(v, ft, file, errs)
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for _, item := range node.Content {
			checkKnownKeys(item, t.Elem(), file, errs)
		}
	}
}

// yamlFields maps the yaml key of every exported field of struct type t to its type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
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
		m[name] = f.Type
	}
	return m
}
