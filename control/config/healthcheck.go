package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var methodRE = regexp.MustCompile(`^[A-Z]{1,16}$`)

// checkKeyKinds says which kinds of check each key means something to. A key written for a
// kind it does not apply to is an error: a setting that silently does nothing is a trap.
var checkKeyKinds = map[string][]CheckKind{
	"kind":                 {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent, CheckNone},
	"interval":             {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"timeout":              {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"rise":                 {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"fall":                 {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"jitter":               {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"source":               {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckAgent},
	"dsr_path":             {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP},
	"port":                 {CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP},
	"method":               {CheckHTTP, CheckHTTPS},
	"path":                 {CheckHTTP, CheckHTTPS},
	"host":                 {CheckHTTP, CheckHTTPS},
	"expect_status":        {CheckHTTP, CheckHTTPS},
	"expect_body":          {CheckHTTP, CheckHTTPS},
	"sni":                  {CheckHTTPS},
	"insecure_skip_verify": {CheckHTTPS},
	"payload":              {CheckUDP},
	"agent_port":           {CheckAgent},
}

var checkKeys = slices.Sorted(func(yield func(string) bool) {
	for k := range checkKeyKinds {
		if !yield(k) {
			return
		}
	}
})

// healthCheck applies the keys written in n onto hc (which holds the defaults or the
// service's check) and returns the keys written.
func (p *parser) healthCheck(n *yaml.Node, hc *HealthCheck) fields {
	if n == nil {
		return fields{}
	}
	fs := p.mapping(n, "health_check", checkKeys...)
	enumKey(p, fs, "kind", checkKindNames, &hc.Kind)
	if d, ok := p.durationKey(fs, "interval", MinCheckInterval, MaxCheckInterval); ok {
		hc.Interval = d
	}
	if d, ok := p.durationKey(fs, "timeout", MinCheckInterval, MaxCheckInterval); ok {
		hc.Timeout = d
	}
	if v, ok := p.intKey(fs, "rise", 1, MaxRiseFall); ok {
		hc.Rise = int(v)
	}
	if v, ok := p.intKey(fs, "fall", 1, MaxRiseFall); ok {
		hc.Fall = int(v)
	}
	if f, ok := fs["jitter"]; ok {
		if v, ok := p.fraction(f.value, "jitter"); ok {
			hc.Jitter = v
		}
	}
	if f, ok := fs["source"]; ok {
		if a, ok := p.addr(f.value, "source"); ok {
			hc.Source = a
		}
	}
	if v, ok := p.intKey(fs, "port", 1, 65535); ok {
		hc.Port = uint16(v)
	}
	if v, ok := p.intKey(fs, "agent_port", 1, 65535); ok {
		hc.AgentPort = uint16(v)
	}
	if s, ok := p.strKey(fs, "method"); ok {
		if methodRE.MatchString(s) {
			hc.Method = s
		} else {
			p.errorf(resolve(fs.value("method")), "method %q must be an upper-case HTTP method, e.g. GET or HEAD", s)
		}
	}
	if s, ok := p.strKey(fs, "path"); ok {
		if strings.HasPrefix(s, "/") && !strings.ContainsAny(s, " \t\r\n") {
			hc.Path = s
		} else {
			p.errorf(resolve(fs.value("path")), "path %q must start with / and contain no spaces", s)
		}
	}
	if s, ok := p.strKey(fs, "host"); ok {
		hc.Host = s
	}
	if f, ok := fs["expect_status"]; ok {
		if rs, ok := p.statusRanges(f.value, "expect_status"); ok {
			hc.ExpectStatus = rs
		}
	}
	if s, ok := p.strKey(fs, "expect_body"); ok {
		hc.ExpectBody = s
	}
	if s, ok := p.strKey(fs, "sni"); ok {
		hc.SNI = s
	}
	if b, ok := p.boolKey(fs, "insecure_skip_verify"); ok {
		hc.InsecureSkipVerify = b
	}
	if s, ok := p.strKey(fs, "payload"); ok {
		hc.Payload = s
	}
	if b, ok := p.boolKey(fs, "dsr_path"); ok {
		hc.DSRPath = b
	}
	return fs
}

// checkRelations validates a check once all its keys are applied. own are the keys written at
// this level and where is the node to blame when no key is. A backend's check starts from its
// service's (inherited): there only relations involving the backend's own keys are checked,
// since the service level already reported the rest.
func (p *parser) checkRelations(hc *HealthCheck, own fields, where *yaml.Node, mode Mode, inherited bool) {
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range own {
			if !yield(k) {
				return
			}
		}
	}) {
		if kinds := checkKeyKinds[key]; !slices.Contains(kinds, hc.Kind) {
			p.conflictf(own[key].key, "%s does not apply to %s checks (only to %s)", key, hc.Kind, kindList(kinds))
		}
	}
	mine := func(keys ...string) bool {
		return !inherited || slices.ContainsFunc(keys, own.has)
	}
	if hc.Kind == CheckNone {
		return
	}
	if hc.Timeout >= hc.Interval && mine("timeout", "interval") && p.notBad(own, "timeout", "interval") {
		p.conflictf(own.valueOr("timeout", own.valueOr("interval", where)),
			"timeout %s must be shorter than interval %s", fmtDuration(hc.Timeout), fmtDuration(hc.Interval))
	}
	if hc.Kind == CheckAgent && hc.AgentPort == 0 && mine("kind", "agent_port") {
		p.conflictf(own.valueOr("kind", where), "agent checks need agent_port (the port the backend's agent answers on)")
	}
	if hc.DSRPath && mode != 0 && !mode.DSR() && mine("dsr_path") {
		p.conflictf(own.valueOr("dsr_path", where), "dsr_path applies only to l2dsr and l3dsr services (this one is %s)", mode)
	}
}

// kindList writes kinds for messages: "http and https", "tcp, http, https and udp".
func kindList(kinds []CheckKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.String()
	}
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s and %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}
