package shm

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"tenbin/control/shm/internal/cabi"
)

// mirrors maps each C struct of tenbin_shm.h to its Go mirror.
var mirrors = map[string]reflect.Type{
	"tenbin_port_conf":      reflect.TypeFor[PortConf](),
	"tenbin_service":        reflect.TypeFor[Service](),
	"tenbin_backend":        reflect.TypeFor[Backend](),
	"tenbin_vip_slot":       reflect.TypeFor[VIPSlot](),
	"tenbin_neigh_key":      reflect.TypeFor[NeighKey](),
	"tenbin_local_addr":     reflect.TypeFor[LocalAddr](),
	"tenbin_config_set":     reflect.TypeFor[ConfigSet](),
	"tenbin_lcore_state":    reflect.TypeFor[LcoreState](),
	"tenbin_neigh_state":    reflect.TypeFor[NeighState](),
	"tenbin_port_info":      reflect.TypeFor[PortInfo](),
	"tenbin_lcore_counters": reflect.TypeFor[LcoreCounters](),
	"tenbin_flow":           reflect.TypeFor[Flow](),
	"tenbin_flow_hop":       reflect.TypeFor[FlowHop](),
	"tenbin_flow_table_hdr": reflect.TypeFor[FlowTableHdr](),
	"tenbin_shm_header":     reflect.TypeFor[Header](),
}

// cName turns a Go field name into the C member name: SeenGeneration → seen_generation,
// SportBE → sport_be, Pad0 → _pad0, IPv4Plen → ipv4_plen.
func cName(goName string) string {
	if strings.HasPrefix(goName, "Pad") {
		return "_pad" + goName[3:]
	}
	replacer := strings.NewReplacer("IPv4", "Ipv4", "IPv6", "Ipv6", "VIPs", "Vips", "VIP", "Vip", "LUT", "Lut",
		"MAC", "Mac", "PID", "Pid", "BE", "Be", "NAT", "Nat", "DSCP", "Dscp", "VLAN", "Vlan", "MSS", "Mss", "ID", "Id", "IP", "Ip")
	s := replacer.Replace(goName)
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// headerFields parses tenbin_shm.h for each struct's member names, so a member added to the
// header but forgotten in cabi's table or in the Go mirror fails the test.
func headerFields(t *testing.T) map[string][]string {
	t.Helper()
	src, err := os.ReadFile("../../dataplane/include/tenbin_shm.h")
	if err != nil {
		t.Fatal(err)
	}
	comments := regexp.MustCompile(`(?s)/\*.*?\*/`)
	text := comments.ReplaceAllString(string(src), "")
	structRe := regexp.MustCompile(`(?s)struct (tenbin_\w+) \{(.*?)\n\}`)
	fieldRe := regexp.MustCompile(`^(?:u?int\d+_t|char|struct \w+)\s+(\w+)`)
	out := map[string][]string{}
	for _, m := range structRe.FindAllStringSubmatch(text, -1) {
		for _, line := range strings.Split(m[2], "\n") {
			if f := fieldRe.FindStringSubmatch(strings.TrimSpace(line)); f != nil {
				out[m[1]] = append(out[m[1]], f[1])
			}
		}
	}
	return out
}

func TestABIMatchesHeader(t *testing.T) {
	if cabi.Magic() != Magic || cabi.Version() != Version {
		t.Fatalf("magic/version: C %#x/%d, Go %#x/%d", cabi.Magic(), cabi.Version(), Magic, Version)
	}
	cFields := map[string]map[string]cabi.Field{}
	cSize := map[string]uintptr{}
	for _, f := range cabi.Fields() {
		if f.Field == "" {
			cSize[f.Struct] = f.Size
			cFields[f.Struct] = map[string]cabi.Field{}
			continue
		}
		cFields[f.Struct][f.Field] = f
	}
	parsed := headerFields(t)
	if len(parsed) != len(mirrors) {
		t.Errorf("header has %d structs, Go mirrors %d", len(parsed), len(mirrors))
	}
	for name, members := range parsed {
		typ, ok := mirrors[name]
		if !ok {
			t.Errorf("struct %s has no Go mirror", name)
			continue
		}
		if typ.Size() != cSize[name] {
			t.Errorf("sizeof(struct %s) = %d, Go %s is %d", name, cSize[name], typ.Name(), typ.Size())
		}
		if typ.NumField() != len(members) {
			t.Errorf("struct %s has %d members, Go %s has %d fields", name, len(members), typ.Name(), typ.NumField())
		}
		for i := 0; i < typ.NumField() && i < len(members); i++ {
			gf := typ.Field(i)
			if cName(gf.Name) != members[i] {
				t.Errorf("%s member %d: C %q, Go %s.%s (%q)", name, i, members[i], typ.Name(), gf.Name, cName(gf.Name))
				continue
			}
			cf, ok := cFields[name][members[i]]
			if !ok {
				t.Errorf("%s.%s missing from control/shm/internal/cabi/table.h", name, members[i])
				continue
			}
			if cf.Offset != gf.Offset || cf.Size != gf.Type.Size() {
				t.Errorf("%s.%s: C offset %d size %d, Go %s.%s offset %d size %d",
					name, members[i], cf.Offset, cf.Size, typ.Name(), gf.Name, gf.Offset, gf.Type.Size())
			}
		}
	}
}

func TestConstantsMatchHeader(t *testing.T) {
	goConst := map[string]uint64{
		"MaxLcores": MaxLcores, "MaxPorts": MaxPorts, "MaxServices": MaxServices, "MaxBackends": MaxBackends,
		"VIPSlots": VIPSlots, "MaxNeigh": MaxNeigh, "MaxLocalAddrs": MaxLocalAddrs, "NameLen": NameLen,
		"FlowBucketWays": FlowBucketWays, "CounterMax": CounterMax, "DropMax": DropMax,
		"ObjCounterMax": ObjCounterMax, "TimeoutMax": TimeoutMax, "ReplyCtrMax": ReplyCtrMax,
		"counterCount": counterCount, "dropCount": uint64(len(DropReasonNames)),
	}
	for name, c := range cabi.Constants() {
		if goConst[name] != c {
			t.Errorf("%s: C %d, Go %d", name, c, goConst[name])
		}
	}
}

func TestVIPHashMatchesHeader(t *testing.T) {
	cases := []struct {
		addr   [16]byte
		port   uint16
		proto  uint8
		family uint8
	}{
		{[16]byte{198, 18, 1, 10}, 80, 6, 4},
		{[16]byte{198, 18, 1, 10}, 0, 0, 4},
		{[16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, 443, 17, 6},
		{[16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}, 65535, 255, 6},
	}
	for _, c := range cases {
		if got, want := VIPHash(c.addr, c.port, c.proto, c.family), cabi.VIPHash(c.addr, c.port, c.proto, c.family); got != want {
			t.Errorf("VIPHash(%v,%d,%d,%d) = %#x, C says %#x", c.addr, c.port, c.proto, c.family, got, want)
		}
	}
}
