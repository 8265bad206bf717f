package shm

import "encoding/binary"

// VIPHash is tenbin_vip_hash from tenbin_shm.h; TestVIPHashMatchesHeader keeps them equal.
func VIPHash(addr [16]byte, port uint16, proto, family uint8) uint32 {
	w := [4]uint32{}
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(addr[4*i:])
	}
	h := w[0] * 0x9e3779b1
	h = (h ^ w[1]) * 0x85ebca77
	h = (h ^ w[2]) * 0xc2b2ae3d
	h = (h ^ w[3]) * 0x27d4eb2f
	h ^= uint32(port)<<16 | uint32(proto)<<8 | uint32(family)
	h *= 0x9e3779b1
	return h ^ h>>15
}
