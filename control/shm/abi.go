// Package shm mirrors dataplane/include/tenbin_shm.h in plain Go and maps the shared region.
//
// The C header is the single source of truth. Every struct here has the same field order,
// sizes and explicit padding; abi_test.go compares each offset and size with offsetof/sizeof
// through cgo, so a drift fails `make test`. This package itself never uses cgo.
package shm

// Constants from tenbin_shm.h.
const (
	Magic     uint64 = 0x314e494e4245544e
	Version   uint32 = 2
	CacheLine        = 64

	MaxLcores      = 16
	MaxPorts       = 8
	MaxServices    = 256
	MaxBackends    = 4096 // index 0 is never assigned
	VIPSlots       = 1024
	MaxNeigh       = 1024 // index 0 is never assigned
	MaxLocalAddrs  = 64
	NameLen        = 32
	FlowBucketWays = 4

	CounterMax    = 32
	DropMax       = 32
	ObjCounterMax = 4
	ReplyCtrMax   = 2
	TimeoutMax    = 4
)

// Mode is enum tenbin_mode.
type Mode uint8

const (
	ModeNone  Mode = 0
	ModeL2DSR Mode = 1
	ModeL3DSR Mode = 2
	ModeNAT   Mode = 3
	ModeFNAT  Mode = 4
)

// LUT kinds (enum tenbin_lut_kind).
const (
	LUTHash   uint8 = 0
	LUTCursor uint8 = 1
)

// Hash fields (enum tenbin_hash_field).
const (
	HashSrcIP   uint8 = 1 << 0
	HashSrcPort uint8 = 1 << 1
	HashDstIP   uint8 = 1 << 2
	HashDstPort uint8 = 1 << 3
	HashProto   uint8 = 1 << 4
	HashAll     uint8 = 0x1f
)

// Service flags (enum tenbin_service_flag).
const (
	SvcICMPEcho    uint16 = 1 << 0
	SvcAllDownDrop uint16 = 1 << 1
)

// Backend flags (enum tenbin_backend_flag).
const (
	BackendPresent   uint8 = 1 << 0
	BackendStaticMAC uint8 = 1 << 1
)

// Timeout classes (enum tenbin_timeout).
const (
	TimeoutTCPSyn = 0
	TimeoutTCPEst = 1
	TimeoutTCPFin = 2
	TimeoutUDP    = 3
)

// Global counters (enum tenbin_counter), in order.
const (
	CtrRxPkts = iota
	CtrRxBytes
	CtrTxPkts
	CtrTxBytes
	CtrKernelPkts
	CtrFlowNew
	CtrFlowHit
	CtrFlowReselect
	CtrFlowTableFull
	CtrFlowExpired
	CtrARPReplies
	CtrNDPReplies
	CtrICMPEchoReplies
	CtrNeighRequests
	CtrNeighUpdates
	CtrICMPErrSteered
	CtrTxFull
	CtrNATReplies
	CtrNATRepliesRemote
	CtrNATPortAllocs
	CtrNATPortFrees
	CtrNATICMPTranslated
	CtrMSSClamped
	CtrTOAAdded
	CtrFlowEvicted
	CtrSynGuard
	counterCount
)

// CounterNames name the global counters for the CLI and Prometheus, in enum order.
var CounterNames = [counterCount]string{
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "kernel_packets",
	"flow_new", "flow_hit", "flow_reselect", "flow_table_full", "flow_expired",
	"arp_replies", "ndp_replies", "icmp_echo_replies", "neigh_requests", "neigh_updates",
	"icmp_errors_steered", "tx_full",
	"nat_replies", "nat_replies_remote", "nat_port_allocs", "nat_port_frees", "nat_icmp_translated",
	"mss_clamped", "toa_added", "flow_evicted", "syn_guard",
}

// DropReasonNames name enum tenbin_drop, in order; the C side's tenbin_drop_names must agree
// (compared in abi_test.go).
var DropReasonNames = []string{
	"bad_eth", "bad_vlan", "bad_arp", "bad_ip_len", "bad_ip_version", "bad_ip_csum",
	"bad_ip_options", "bad_ipv6_ext", "bad_l4", "bad_icmp", "unsupported_proto", "non_ip",
	"no_vip", "no_backend", "no_neigh", "ttl_exceeded", "fragment", "no_config", "tx_full",
	"nat_no_port", "nat_no_state", "mtu", "icmp_err_no_flow", "not_for_us",
	"syn_guard",
}

// Per-object counter columns (enum tenbin_obj_counter).
const (
	ObjPkts = iota
	ObjBytes
	ObjNewFlows
	ObjActiveFlows
)

// Per-object counter columns of the server-to-client direction (enum tenbin_reply_counter).
const (
	ReplyPkts = iota
	ReplyBytes
)

// PortConf is struct tenbin_port_conf.
type PortConf struct {
	IPv4     [4]uint8
	IPv4Plen uint8
	IPv6Plen uint8
	VLAN     uint16
	IPv6     [16]uint8
	Flags    uint32
	Pad0     uint32
}

// Service is struct tenbin_service.
type Service struct {
	VIP         [16]uint8
	Family      uint8
	Proto       uint8
	Port        uint16
	Mode        Mode
	LUTKind     uint8
	DSCP        uint8
	HashFields  uint8
	HashSeed    uint32
	LUTOffset   uint32
	LUTSize     uint32
	TimeoutS    [TimeoutMax]uint32
	Flags       uint16
	IngressPort uint8
	LocalPool   uint8
	LocalCount  uint8
	ClientAddr  uint8
	MSSMax      uint16
	NATPortLo   uint16
	NATPortHi   uint16
	MaxHalfOpen uint32
	Pad1        [7]uint32
	Name        [NameLen]byte
}

// Backend is struct tenbin_backend.
type Backend struct {
	Addr        [16]uint8
	Family      uint8
	Flags       uint8
	Port        uint16
	Incarnation uint32
	Service     uint16
	Neigh       uint16
	MAC         [6]uint8
	EgressPort  uint8
	Pad0        uint8
	VLAN        uint16
	Weight      uint16
	Pad1        [6]uint32
}

// VIPSlot is struct tenbin_vip_slot.
type VIPSlot struct {
	Addr         [16]uint8
	Port         uint16
	Proto        uint8
	Family       uint8
	ServicePlus1 uint16
	Pad0         uint16
	Pad1         [2]uint32
}

// NeighKey is struct tenbin_neigh_key.
type NeighKey struct {
	Addr   [16]uint8
	Family uint8
	Port   uint8
	VLAN   uint16
	Tag    uint16
	Pad0   uint16
	Pad1   [2]uint32
}

// LocalAddr is struct tenbin_local_addr.
type LocalAddr struct {
	Addr   [16]uint8
	Family uint8
	Pad0   [7]uint8
}

// ConfigSet is struct tenbin_config_set; LUTCapacity uint16 entries follow it in the region.
type ConfigSet struct {
	Generation     uint64
	NServices      uint32
	NBackends      uint32
	NNeigh         uint32
	LUTUsed        uint32
	LUTCapacity    uint32
	NPorts         uint32
	NeighRefreshMs uint32
	NeighExpireMs  uint32
	Pad0           [6]uint32
	Ports          [MaxPorts]PortConf
	Services       [MaxServices]Service
	Backends       [MaxBackends]Backend
	VIPs           [VIPSlots]VIPSlot
	Neigh          [MaxNeigh]NeighKey
	LocalAddrs     [MaxLocalAddrs]LocalAddr
}

// LcoreState is struct tenbin_lcore_state.
type LcoreState struct {
	SeenGeneration uint64
	HeartbeatMs    uint64
	LcoreID        uint32
	Online         uint32
	BusyPolls      uint64
	IdlePolls      uint64
	Sleeps         uint64
	Pad0           [2]uint64
}

// NeighState is struct tenbin_neigh_state.
type NeighState struct {
	MACTag      uint64
	UpdatedMs   uint64
	RequestedMs uint64
	Port        uint8
	Pad0        [7]uint8
}

// PortInfo is struct tenbin_port_info.
type PortInfo struct {
	Name      [NameLen]byte
	MAC       [6]uint8
	Present   uint8
	LinkUp    uint8
	SpeedMbps uint32
	NQueues   uint16
	Pad0      [3]uint16
}

// LcoreCounters is struct tenbin_lcore_counters.
type LcoreCounters struct {
	Global  [CounterMax]uint64
	Drops   [DropMax]uint64
	Service [MaxServices][ObjCounterMax]uint64
	Backend [MaxBackends][ObjCounterMax]uint64
	// Server-to-client direction (nat/fnat replies).
	ServiceReply [MaxServices][ReplyCtrMax]uint64
	BackendReply [MaxBackends][ReplyCtrMax]uint64
	// fnat connections this lcore holds per local-address slot: the Writer gives a slot
	// another address only when every lcore's count is 0.
	LocalConns [MaxLocalAddrs]uint64
}

// Flow is struct tenbin_flow.
type Flow struct {
	Sig         uint32
	ExpiresMs   uint32
	Src         [16]uint8
	Dst         [16]uint8
	SportBE     uint16
	DportBE     uint16
	Proto       uint8
	Family      uint8
	State       uint8
	Flags       uint8
	Backend     uint16
	Service     uint16
	Incarnation uint32
	NATPortBE   uint16
	NATAddr     uint8
	RevFlags    uint8
	Peer        uint32
}

// FlowHop is struct tenbin_flow_hop: where a nat/fnat connection's replies go.
type FlowHop struct {
	MAC  [6]uint8
	Port uint8
	Pad0 uint8
	VLAN uint16
	Pad1 uint16
	Pad2 uint32
}

// FlowTableHdr is struct tenbin_flow_table_hdr.
type FlowTableHdr struct {
	NEntries    uint32
	SweepCursor uint32
	Pad0        [7]uint64
}

// Header is struct tenbin_shm_header.
type Header struct {
	Magic      uint64
	Version    uint32
	HeaderSize uint32
	TotalSize  uint64

	NLcores     uint32
	LUTCapacity uint32
	FlowEntries uint32
	Pad0        uint32

	LcoreStatesOffset uint64
	ConfigOffset      [2]uint64
	ConfigSize        uint64
	NeighStatesOffset uint64
	PortInfosOffset   uint64
	CountersOffset    uint64
	CountersSize      uint64
	FlowsOffset       uint64
	FlowsSize         uint64
	Pad1              [9]uint64

	Active              uint64
	PublishedGeneration uint64
	ControlHeartbeatMs  uint64
	ControlPID          uint64
	Pad2                [4]uint64

	DataplaneHeartbeatMs uint64
	DataplanePID         uint64
	DataplaneStartedMs   uint64
	NPorts               uint32
	LcoresRunning        uint32
	Pad3                 [4]uint64
}
