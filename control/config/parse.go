package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the configuration file at path. A file that cannot be read is a plain
// error; a file that is wrong is an Errors (errors.Is(err, ErrInvalid)) listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a configuration. name is used in messages (usually the path).
// On any problem it returns a nil Config and an Errors with all of them, sorted by position.
func Parse(name string, data []byte) (*Config, error) {
	p := &parser{file: name}
	cfg := p.document(data)
	if err := p.result(); err != nil {
		return nil, err
	}
	cfg.File = name
	return cfg, nil
}

var (
	portNameRE    = regexp.MustCompile(`^[a-z0-9_-]{1,15}$`)
	serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,31}$`) // the shared region holds 31 bytes and a NUL
	yamlLineRE    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

func (p *parser) document(data []byte) *Config {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		p.errorf(nil, "the file is empty")
		return &cfg
	case err != nil:
		p.syntaxError(err)
		return &cfg
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(&extra, "a second YAML document; the configuration is one document")
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
	}

	root := doc.Content[0]
	fs := p.mapping(root, "", "dataplane", "api", "metrics", "local_pools", "services", "proxy")
	if f, ok := fs["dataplane"]; ok {
		cfg.Dataplane = p.dataplane(f.value)
	}
	if f, ok := fs["api"]; ok {
		cfg.API = p.api(f.value)
	}
	if f, ok := fs["metrics"]; ok {
		cfg.Metrics = p.metrics(f.value)
	}
	pools := p.localPools(fs.value("local_pools"))
	cfg.LocalPools = pools.pools
	if f, ok := fs["services"]; ok {
		cfg.Services = p.services(f, cfg.Dataplane.Ports, pools)
	}
	if f, ok := fs["proxy"]; ok {
		if v := resolve(f.value); !isNull(v) {
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "proxy must be a mapping, got %s", describe(v))
			}
			cfg.Proxy = v
		}
	}
	return &cfg
}

// syntaxError turns yaml.v3's "yaml: line N: ..." into a positioned error (it knows no column).
func (p *parser) syntaxError(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if m := yamlLineRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			p.errs = append(p.errs, &Error{File: p.file, Line: n, Msg: "YAML: " + m[2]})
			continue
		}
		if line != "" && line != "yaml: unmarshal errors:" {
			p.errs = append(p.errs, &Error{File: p.file, Msg: strings.Replace(line, "yaml: ", "YAML: ", 1)})
		}
	}
}

func (p *parser) dataplane(n *yaml.Node) Dataplane {
	var dp Dataplane
	fs := p.mapping(n, "dataplane", "shm", "ports")
	if f, ok := fs["shm"]; ok {
		if s, ok := p.str(f.value, "shm"); ok {
			if !filepath.IsAbs(s) {
				p.errorf(resolve(f.value), "shm %q must be an absolute path", s)
			}
			dp.SHM = s
		}
	}
	items := p.sequence(fs.value("ports"), "ports")
	if len(items) > MaxPorts {
		p.conflictf(items[MaxPorts], "more than %d dataplane ports (the dataplane's limit)", MaxPorts)
	}
	names := map[string]*yaml.Node{}
	for i, item := range items {
		port, nameNode := p.port(item)
		port.Index = i
		if nameNode != nil {
			if prev, dup := names[port.Name]; dup {
				p.conflictf(nameNode, "duplicate port name %q (also at %s)", port.Name, p.at(prev))
			}
			names[port.Name] = nameNode
		}
		dp.Ports = append(dp.Ports, port)
	}
	return dp
}

// port reads one dataplane port; it returns the name's node when the name is valid.
func (p *parser) port(n *yaml.Node) (Port, *yaml.Node) {
	port := DefaultPort()
	fs := p.mapping(n, "port", "name", "ipv4", "ipv6", "gateway4", "gateway6", "vlan")
	var nameNode *yaml.Node
	if p.required(fs, n, "port", "name") {
		if s, ok := p.name(fs.value("name"), "name", portNameRE); ok {
			port.Name, nameNode = s, resolve(fs.value("name"))
		}
	}
	if f, ok := fs["ipv4"]; ok {
		port.IPv4, _ = p.prefix(f.value, "ipv4", true)
	}
	if f, ok := fs["ipv6"]; ok {
		port.IPv6, _ = p.prefix(f.value, "ipv6", false)
	}
	if f, ok := fs["vlan"]; ok {
		v, _ := p.integer(f.value, "vlan", 0, 4094)
		port.VLAN = uint16(v)
	}
	port.Gateway4 = p.gateway(fs, "gateway4", "ipv4", port.IPv4, true)
	port.Gateway6 = p.gateway(fs, "gateway6", "ipv6", port.IPv6, false)
	return port, nameNode
}

func (p *parser) gateway(fs fields, key, prefixKey string, pfx netip.Prefix, want4 bool) netip.Addr {
	f, ok := fs[key]
	if !ok {
		return netip.Addr{}
	}
	gw, ok := p.addr(f.value, key)
	if !ok {
		return netip.Addr{}
	}
	v := resolve(f.value)
	switch {
	case gw.Is4() != want4:
		p.errorf(v, "%s %s is not an %s address", key, gw, map[bool]string{true: "IPv4", false: "IPv6"}[want4])
	case !fs.has(prefixKey):
		p.conflictf(v, "%s needs %s (the subnet the gateway is in)", key, prefixKey)
	case !pfx.IsValid():
		// prefixKey was written but is wrong, and already reported.
	case !pfx.Contains(gw):
		p.conflictf(v, "%s %s is outside the port's subnet %s", key, gw, pfx.Masked())
	case gw == pfx.Addr():
		p.conflictf(v, "%s %s is the port's own address", key, gw)
	default:
		return gw
	}
	return netip.Addr{}
}

func (p *parser) api(n *yaml.Node) API {
	api := DefaultConfig().API
	fs := p.mapping(n, "api", "socket")
	if f, ok := fs["socket"]; ok {
		if s, ok := p.str(f.value, "socket"); ok {
			if !filepath.IsAbs(s) {
				p.errorf(resolve(f.value), "socket %q must be an absolute path", s)
			}
			api.Socket = s
		}
	}
	return api
}

func (p *parser) metrics(n *yaml.Node) Metrics {
	m := DefaultConfig().Metrics
	fs := p.mapping(n, "metrics", "listen")
	f, ok := fs["listen"]
	if !ok {
		return m
	}
	s, ok := p.str(f.value, "listen")
	if !ok || s == "" {
		return m
	}
	_, portText, err := net.SplitHostPort(s)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil || port == 0 {
		p.errorf(resolve(f.value), "listen %q must be host:port, e.g. 127.0.0.1:9542 or [::1]:9542", s)
		return m
	}
	m.Listen = s
	return m
}

// pools is the parsed local_pools with where each name was written.
type pools struct {
	pools []LocalPool
	nodes map[string]*yaml.Node // name → its value node
}

func (p *parser) localPools(n *yaml.Node) pools {
	out := pools{nodes: map[string]*yaml.Node{}}
	if n == nil {
		return out
	}
	addrs := map[netip.Addr]*yaml.Node{}
	total := 0
	for _, item := range p.sequence(n, "local_pools") {
		var pool LocalPool
		fs := p.mapping(item, "local pool", "name", "addresses")
		if p.required(fs, item, "local pool", "name") {
			if s, ok := p.name(fs.value("name"), "name", serviceNameRE); ok {
				if prev, dup := out.nodes[s]; dup {
					p.conflictf(resolve(fs.value("name")), "duplicate local pool name %q (also at %s)", s, p.at(prev))
				}
				pool.Name = s
				out.nodes[s] = resolve(fs.value("name"))
			}
		}
		if p.required(fs, item, "local pool", "addresses") {
			list := p.sequence(fs.value("addresses"), "addresses")
			if len(list) == 0 && resolve(fs.value("addresses")).Kind == yaml.SequenceNode {
				p.errorf(resolve(fs.value("addresses")), "addresses must list at least one address")
			}
			for _, an := range list {
				a, ok := p.addr(an, "address")
				if !ok {
					continue
				}
				if prev, dup := addrs[a]; dup {
					p.conflictf(an, "address %s is already in a local pool (also at %s)", a, p.at(prev))
					continue
				}
				addrs[a] = an
				total++
				if total == MaxLocalAddresses+1 {
					p.conflictf(an, "more than %d local pool addresses in all (the dataplane's limit)", MaxLocalAddresses)
				}
				pool.Addresses = append(pool.Addresses, a)
			}
		}
		out.pools = append(out.pools, pool)
	}
	return out
}
