// Package cabi reads offsetof/sizeof of every field of tenbin_shm.h through cgo, for the ABI
// test of control/shm. Only that test imports it, so control/shm itself stays pure Go.
package cabi

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../dataplane/include -Wall -Wextra -Werror
#include <stddef.h>
#include <stdint.h>
#include "tenbin_shm.h"
#include "table.h"

struct abi_field { const char *strct; const char *field; size_t off; size_t size; };

#define F(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) },
#define S(s) { #s, "", 0, sizeof(struct s) },
static const struct abi_field abi_fields[] = { TENBIN_ABI_FIELDS(F, S) };
#undef F
#undef S

static size_t abi_count(void) { return sizeof(abi_fields) / sizeof(abi_fields[0]); }
static const struct abi_field *abi_at(size_t i) { return &abi_fields[i]; }

static uint64_t magic(void) { return TENBIN_SHM_MAGIC; }
static uint32_t version(void) { return TENBIN_SHM_VERSION; }
static uint32_t vip_hash(const uint8_t *a, uint16_t port, uint8_t proto, uint8_t family) {
	return tenbin_vip_hash(a, port, proto, family);
}
*/
import "C"

import "unsafe"

// Field is one struct member as the C compiler lays it out. Field == "" describes the struct
// itself (Size is its sizeof).
type Field struct {
	Struct, Field string
	Offset, Size  uintptr
}

// Fields lists every struct and member in the header's table.
func Fields() []Field {
	n := int(C.abi_count())
	out := make([]Field, 0, n)
	for i := 0; i < n; i++ {
		f := C.abi_at(C.size_t(i))
		out = append(out, Field{C.GoString(f.strct), C.GoString(f.field), uintptr(f.off), uintptr(f.size)})
	}
	return out
}

// Magic and Version are the header's constants.
func Magic() uint64   { return uint64(C.magic()) }
func Version() uint32 { return uint32(C.version()) }

// VIPHash runs the header's tenbin_vip_hash.
func VIPHash(addr [16]byte, port uint16, proto, family uint8) uint32 {
	return uint32(C.vip_hash((*C.uint8_t)(unsafe.Pointer(&addr[0])), C.uint16_t(port), C.uint8_t(proto), C.uint8_t(family)))
}

// Constants returns the header's numeric constants by name.
func Constants() map[string]uint64 {
	return map[string]uint64{
		"MaxLcores": C.TENBIN_MAX_LCORES, "MaxPorts": C.TENBIN_MAX_PORTS,
		"MaxServices": C.TENBIN_MAX_SERVICES, "MaxBackends": C.TENBIN_MAX_BACKENDS,
		"VIPSlots": C.TENBIN_VIP_SLOTS, "MaxNeigh": C.TENBIN_MAX_NEIGH,
		"MaxLocalAddrs": C.TENBIN_MAX_LOCAL_ADDRS, "NameLen": C.TENBIN_NAME_LEN,
		"FlowBucketWays": C.TENBIN_FLOW_BUCKET_WAYS, "CounterMax": C.TENBIN_CTR_MAX,
		"DropMax": C.TENBIN_DROP_MAX, "ObjCounterMax": C.TENBIN_OBJ_MAX, "TimeoutMax": C.TENBIN_TMO_MAX,
		"ReplyCtrMax": C.TENBIN_REPLY_MAX, "counterCount": C.TENBIN_CTR_SYN_GUARD + 1, "dropCount": C.TENBIN_DROP_SYN_GUARD + 1,
	}
}
