package dpdk

/*
#include <stdlib.h>

#include <rte_ethdev.h>

#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"unsafe"
)

// Port is an ethdev port id.
type Port uint16

// PortByName finds the port of a probed device by its name, e.g.
// "net_null0" or a PCI address.
func PortByName(name string) (Port, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var id C.uint16_t
	if rc := C.rte_eth_dev_get_port_by_name(cname, &id); rc < 0 {
		return 0, codeErr(fmt.Sprintf("rte_eth_dev_get_port_by_name %q", name), rc)
	}
	return Port(id), nil
}

// CountAvail is the number of ports ready to use.
func CountAvail() int { return int(C.rte_eth_dev_count_avail()) }

// Ports lists the ports ready to use, in id order.
func Ports() []Port {
	var ports []Port
	for id := C.rte_eth_find_next_owned_by(0, C.RTE_ETH_DEV_NO_OWNER); id < C.RTE_MAX_ETHPORTS; id = C.rte_eth_find_next_owned_by(C.uint16_t(id+1), C.RTE_ETH_DEV_NO_OWNER) {
		ports = append(ports, Port(id))
	}
	return ports
}

// op names a call on this port in errors.
func (p Port) op(call string) string { return fmt.Sprintf("%s port %d", call, uint16(p)) }

// Name is the device name the port was probed as.
func (p Port) Name() (string, error) {
	var buf [C.RTE_ETH_NAME_MAX_LEN]C.char
	if rc := C.rte_eth_dev_get_name_by_port(C.uint16_t(p), &buf[0]); rc < 0 {
		return "", codeErr(p.op("rte_eth_dev_get_name_by_port"), rc)
	}
	return C.GoString(&buf[0]), nil
}

// PortInfo is what a port's driver reports about it.
type PortInfo struct {
	Driver      string
	MaxRxQueues uint16
	MaxTxQueues uint16
	MinMTU      uint16
	MaxMTU      uint16
	// RSSHashes is the RTE_ETH_RSS_* hash types the device can compute.
	RSSHashes uint64
	// Socket is the device's NUMA socket, SocketAny when unknown.
	Socket int
	// IfIndex is the kernel interface behind the port, 0 if none.
	IfIndex uint32
}

// Info asks the driver for the port's limits and placement.
func (p Port) Info() (PortInfo, error) {
	var info C.struct_rte_eth_dev_info
	if rc := C.rte_eth_dev_info_get(C.uint16_t(p), &info); rc < 0 {
		return PortInfo{}, codeErr(p.op("rte_eth_dev_info_get"), rc)
	}
	var socket C.int
	if rc := C.tb_eth_socket_id(C.uint16_t(p), &socket); rc < 0 {
		return PortInfo{}, codeErr(p.op("rte_eth_dev_socket_id"), rc)
	}
	return PortInfo{
		Driver:      C.GoString(info.driver_name),
		MaxRxQueues: uint16(info.max_rx_queues),
		MaxTxQueues: uint16(info.max_tx_queues),
		MinMTU:      uint16(info.min_mtu),
		MaxMTU:      uint16(info.max_mtu),
		RSSHashes:   uint64(info.flow_type_rss_offloads),
		Socket:      int(socket),
		IfIndex:     uint32(info.if_index),
	}, nil
}

// PortConf is the part of rte_eth_conf tenbin sets.
type PortConf struct {
	// RSS spreads received flows over the rx queues by IP/TCP/UDP hash
	// (those the device supports); it takes effect with two or more.
	RSS bool
	// MTU in bytes; 0 keeps the default 1500.
	MTU uint16
	// Promiscuous receives frames for every MAC address. Devices that
	// cannot switch it (most vdevs) are left as they are.
	Promiscuous bool
}

// Configure sets the number of rx and tx queues and the port's mode. Set
// up every queue afterwards, then Start.
func (p Port) Configure(nbRx, nbTx uint16, conf PortConf) error {
	rss := C.int(0)
	if conf.RSS {
		rss = 1
	}
	if rc := C.tb_eth_configure(C.uint16_t(p), C.uint16_t(nbRx), C.uint16_t(nbTx), rss, C.uint16_t(conf.MTU)); rc < 0 {
		return codeErr(p.op("rte_eth_dev_configure"), rc)
	}
	err := p.Promiscuous(conf.Promiscuous)
	if errors.Is(err, ErrNotSupported) {
		return nil
	}
	return err
}

// AdjustDescriptors rounds descriptor counts to what the device accepts.
func (p Port) AdjustDescriptors(nbRx, nbTx uint16) (uint16, uint16, error) {
	rx, tx := C.uint16_t(nbRx), C.uint16_t(nbTx)
	if rc := C.rte_eth_dev_adjust_nb_rx_tx_desc(C.uint16_t(p), &rx, &tx); rc < 0 {
		return nbRx, nbTx, codeErr(p.op("rte_eth_dev_adjust_nb_rx_tx_desc"), rc)
	}
	return uint16(rx), uint16(tx), nil
}

// RxQueueSetup sets up rx queue q with nbDesc descriptors on socket,
// filling it with mbufs from mp.
func (p Port) RxQueueSetup(q, nbDesc uint16, socket int, mp *Mempool) error {
	rc := C.rte_eth_rx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(nbDesc), C.uint(socketOrAny(socket)), nil, mp.p)
	return codeErr(p.op(fmt.Sprintf("rte_eth_rx_queue_setup queue %d", q)), rc)
}

// TxQueueSetup sets up tx queue q with nbDesc descriptors on socket.
func (p Port) TxQueueSetup(q, nbDesc uint16, socket int) error {
	rc := C.rte_eth_tx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(nbDesc), C.uint(socketOrAny(socket)), nil)
	return codeErr(p.op(fmt.Sprintf("rte_eth_tx_queue_setup queue %d", q)), rc)
}

// socketOrAny maps negative socket ids to SOCKET_ID_ANY as DPDK's unsigned
// parameter expects it.
func socketOrAny(socket int) C.int {
	if socket < 0 {
		return C.SOCKET_ID_ANY
	}
	return C.int(socket)
}

// Start starts the port; its queues must be set up.
func (p Port) Start() error {
	return codeErr(p.op("rte_eth_dev_start"), C.rte_eth_dev_start(C.uint16_t(p)))
}

// Stop stops the port; no lcore may poll it any more.
func (p Port) Stop() error {
	return codeErr(p.op("rte_eth_dev_stop"), C.rte_eth_dev_stop(C.uint16_t(p)))
}

// Close releases a stopped port; its id may be reused afterwards.
func (p Port) Close() error {
	return codeErr(p.op("rte_eth_dev_close"), C.rte_eth_dev_close(C.uint16_t(p)))
}

// Promiscuous turns promiscuous mode on or off.
func (p Port) Promiscuous(on bool) error {
	if on {
		return codeErr(p.op("rte_eth_promiscuous_enable"), C.rte_eth_promiscuous_enable(C.uint16_t(p)))
	}
	return codeErr(p.op("rte_eth_promiscuous_disable"), C.rte_eth_promiscuous_disable(C.uint16_t(p)))
}

// MACAddr is the port's primary MAC address.
func (p Port) MACAddr() (net.HardwareAddr, error) {
	var addr C.struct_rte_ether_addr
	if rc := C.rte_eth_macaddr_get(C.uint16_t(p), &addr); rc < 0 {
		return nil, codeErr(p.op("rte_eth_macaddr_get"), rc)
	}
	return C.GoBytes(unsafe.Pointer(&addr.addr_bytes[0]), C.RTE_ETHER_ADDR_LEN), nil
}

// Link is a port's link state.
type Link struct {
	SpeedMbps  uint32
	Up         bool
	FullDuplex bool
	Autoneg    bool
}

// Link reads the link state without waiting for the device to settle
// (rte_eth_link_get_nowait).
func (p Port) Link() (Link, error) {
	var l C.struct_tb_link
	if rc := C.tb_eth_link(C.uint16_t(p), &l); rc < 0 {
		return Link{}, codeErr(p.op("rte_eth_link_get_nowait"), rc)
	}
	return Link{SpeedMbps: uint32(l.speed_mbps), Up: l.up != 0, FullDuplex: l.full_duplex != 0, Autoneg: l.autoneg != 0}, nil
}
