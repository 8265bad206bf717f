package realserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
)

// The tables setup owns, one per family. Owning a whole table (not rules in a shared one) lets
// setup replace it atomically and teardown delete it without touching anyone else's rules.
const (
	tableV4 = "tenbin_l3dsr"
	tableV6 = "tenbin_l3dsr6"

	chainPre = "pre"
	chainOut = "out"

	rawPriority = -300 // nft's "raw": before conntrack (-200)
)

// NftTable names one nftables table.
type NftTable struct {
	Family string `json:"family"`
	Name   string `json:"name"`
}

func (t NftTable) String() string { return t.Family + " " + t.Name }

func l3dsrTable(v6 bool) NftTable {
	if v6 {
		return NftTable{"ip6", tableV6}
	}
	return NftTable{"ip", tableV4}
}

// desiredNftRules is the L3DSR ruleset for one family: per VIP, a prerouting rule mapping
// (DSCP, RIP) back to the VIP, and an output rule exempting the VIP's replies from conntrack,
// which never saw the rewritten request and would otherwise call the replies invalid.
func desiredNftRules(spec Spec, v6 bool) []NftRule {
	t := l3dsrTable(v6)
	var pre, out []NftRule
	for _, v := range sortedVIPs(spec.VIPs) {
		if v.Addr.Is6() != v6 {
			continue
		}
		rip, _ := spec.RIPFor(v.Addr)
		pre = append(pre, NftRule{Family: t.Family, Table: t.Name, Chain: chainPre, Hook: "prerouting", Priority: rawPriority,
			DSCP: int(v.DSCP), Daddr: rip, SetDaddr: v.Addr, Notrack: true})
		out = append(out, NftRule{Family: t.Family, Table: t.Name, Chain: chainOut, Hook: "output", Priority: rawPriority,
			DSCP: -1, Saddr: v.Addr, Notrack: true})
	}
	return append(pre, out...)
}

func sortedVIPs(vips []VIP) []VIP {
	s := slices.Clone(vips)
	slices.SortFunc(s, func(a, b VIP) int { return a.Addr.Compare(b.Addr) })
	return s
}

// nftRuleText is the rule in nft syntax, e.g. "ip dscp 0x22 ip daddr 198.18.1.2 ip daddr set 198.18.0.10 notrack".
func nftRuleText(r NftRule) string {
	var b strings.Builder
	if r.DSCP >= 0 {
		fmt.Fprintf(&b, "%s dscp %#02x ", r.Family, r.DSCP)
	}
	if r.Daddr.IsValid() {
		fmt.Fprintf(&b, "%s daddr %s ", r.Family, r.Daddr)
	}
	if r.Saddr.IsValid() {
		fmt.Fprintf(&b, "%s saddr %s ", r.Family, r.Saddr)
	}
	if r.SetDaddr.IsValid() {
		fmt.Fprintf(&b, "%s daddr set %s ", r.Family, r.SetDaddr)
	}
	if r.Notrack {
		b.WriteString("notrack")
	}
	return strings.TrimSpace(b.String())
}

// nftReplaceScript replaces table t by one holding rules, atomically (nft applies a script as
// one transaction). "add table" first makes the "delete table" valid when t does not exist yet.
// The script is one line so it can be printed as a single dry-run line and pasted into a shell.
func nftReplaceScript(t NftTable, rules []NftRule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "add table %s; delete table %s; table %s {", t, t, t)
	for _, c := range []struct{ name, hook string }{{chainPre, "prerouting"}, {chainOut, "output"}} {
		fmt.Fprintf(&b, " chain %s { type filter hook %s priority raw; policy accept;", c.name, c.hook)
		for _, r := range rules {
			if r.Chain == c.name {
				b.WriteString(" " + nftRuleText(r) + ";")
			}
		}
		b.WriteString(" };")
	}
	b.WriteString(" }")
	return b.String()
}

func nftDeleteScript(t NftTable) string { return "delete table " + t.String() }

// sameRules compares rulesets ignoring order (nft keeps insertion order, but the rules here are
// disjoint matches, so order does not change what they do).
func sameRules(a, b []NftRule) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(r NftRule) string {
		return fmt.Sprintf("%s|%s|%s|%s|%d|%s", r.Family, r.Table, r.Chain, r.Hook, r.Priority, nftRuleText(r))
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func rulesIn(rules []NftRule, t NftTable) []NftRule {
	var out []NftRule
	for _, r := range rules {
		if r.Family == t.Family && r.Table == t.Name {
			out = append(out, r)
		}
	}
	return out
}

func tablePresent(o Observed, t NftTable) bool {
	return slices.Contains(o.NftTables, t)
}

// nftTool runs the nft binary.
type nftTool struct{ path string }

// list returns the tables and rules of the whole ruleset. -n keeps DSCP numeric instead of
// PHB names.
func (n nftTool) list(ctx context.Context) ([]NftTable, []NftRule, error) {
	out, err := n.run(ctx, nil, "-j", "-n", "list", "ruleset")
	if err != nil {
		return nil, nil, err
	}
	return parseNftJSON(out)
}

func (n nftTool) apply(ctx context.Context, script string) error {
	_, err := n.run(ctx, strings.NewReader(script+"\n"), "-f", "-")
	return err
}

func (n nftTool) run(ctx context.Context, stdin *strings.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, n.path, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nft %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// The subset of nft's JSON schema (libnftables-json(5)) read here.
type nftJSON struct {
	Nftables []struct {
		Table *struct{ Family, Name string } `json:"table"`
		Chain *struct {
			Family, Table, Name, Hook string
			Prio                      int
		} `json:"chain"`
		Rule *struct {
			Family, Table, Chain string
			Expr                 []map[string]json.RawMessage
		} `json:"rule"`
	} `json:"nftables"`
}

type nftPayload struct {
	Payload *struct{ Protocol, Field string } `json:"payload"`
}

var errNftUnknownExpr = errors.New("expression not understood")

func parseNftJSON(data []byte) ([]NftTable, []NftRule, error) {
	var doc nftJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("nft json: %w", err)
	}
	var tables []NftTable
	for _, o := range doc.Nftables {
		if t := o.Table; t != nil {
			tables = append(tables, NftTable{t.Family, t.Name})
		}
	}
	type chainKey struct{ family, table, name string }
	hooks := map[chainKey]struct {
		hook string
		prio int
	}{}
	for _, o := range doc.Nftables {
		if c := o.Chain; c != nil {
			hooks[chainKey{c.Family, c.Table, c.Name}] = struct {
				hook string
				prio int
			}{c.Hook, c.Prio}
		}
	}
	var rules []NftRule
	for _, o := range doc.Nftables {
		jr := o.Rule
		if jr == nil {
			continue
		}
		h := hooks[chainKey{jr.Family, jr.Table, jr.Chain}]
		r := NftRule{Family: jr.Family, Table: jr.Table, Chain: jr.Chain, Hook: h.hook, Priority: h.prio, DSCP: -1}
		for _, e := range jr.Expr {
			if err := r.addExpr(e); err != nil {
				// A rule with conditions this package does not model is kept but marked, so
				// it never counts as one of ours (its match is narrower or different).
				r.Hook = "unknown:" + r.Hook
				break
			}
		}
		rules = append(rules, r)
	}
	return tables, rules, nil
}

func (r *NftRule) addExpr(e map[string]json.RawMessage) error {
	if _, ok := e["notrack"]; ok && len(e) == 1 {
		r.Notrack = true
		return nil
	}
	if raw, ok := e["match"]; ok {
		var m struct {
			Op    string
			Left  nftPayload
			Right json.RawMessage
		}
		if err := json.Unmarshal(raw, &m); err != nil || m.Op != "==" || m.Left.Payload == nil || m.Left.Payload.Protocol != r.Family {
			return errNftUnknownExpr
		}
		switch m.Left.Payload.Field {
		case "dscp":
			d, err := parseNftDSCP(m.Right)
			if err != nil {
				return err
			}
			r.DSCP = int(d)
			return nil
		case "daddr":
			return parseNftAddr(m.Right, &r.Daddr)
		case "saddr":
			return parseNftAddr(m.Right, &r.Saddr)
		}
		return errNftUnknownExpr
	}
	if raw, ok := e["mangle"]; ok {
		var m struct {
			Key   nftPayload
			Value json.RawMessage
		}
		if err := json.Unmarshal(raw, &m); err != nil || m.Key.Payload == nil || m.Key.Payload.Field != "daddr" {
			return errNftUnknownExpr
		}
		return parseNftAddr(m.Value, &r.SetDaddr)
	}
	return errNftUnknownExpr
}

func parseNftDSCP(raw json.RawMessage) (uint8, error) {
	var n int
	if json.Unmarshal(raw, &n) == nil && n >= 0 && n <= 63 {
		return uint8(n), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return ParseDSCP(s)
	}
	return 0, errNftUnknownExpr
}

func parseNftAddr(raw json.RawMessage, dst *netip.Addr) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return errNftUnknownExpr // a set, prefix or range: not a single address
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return errNftUnknownExpr
	}
	*dst = a
	return nil
}
