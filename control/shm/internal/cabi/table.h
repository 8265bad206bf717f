/* Every field of every struct in tenbin_shm.h, for the ABI test. Keep complete:
 * abi_test.go parses the header and fails if a field is missing here. */
#define TENBIN_ABI_FIELDS(F, S) \
	S(tenbin_port_conf) \
	F(tenbin_port_conf, ipv4) \
	F(tenbin_port_conf, ipv4_plen) \
	F(tenbin_port_conf, ipv6_plen) \
	F(tenbin_port_conf, vlan) \
	F(tenbin_port_conf, ipv6) \
	F(tenbin_port_conf, flags) \
	F(tenbin_port_conf, _pad0) \
	S(tenbin_service) \
	F(tenbin_service, vip) \
	F(tenbin_service, family) \
	F(tenbin_service, proto) \
	F(tenbin_service, port) \
	F(tenbin_service, mode) \
	F(tenbin_service, lut_kind) \
	F(tenbin_service, dscp) \
	F(tenbin_service, hash_fields) \
	F(tenbin_service, hash_seed) \
	F(tenbin_service, lut_offset) \
	F(tenbin_service, lut_size) \
	F(tenbin_service, timeout_s) \
	F(tenbin_service, flags) \
	F(tenbin_service, ingress_port) \
	F(tenbin_service, local_pool) \
	F(tenbin_service, local_count) \
	F(tenbin_service, client_addr) \
	F(tenbin_service, mss_max) \
	F(tenbin_service, nat_port_lo) \
	F(tenbin_service, nat_port_hi) \
	F(tenbin_service, max_half_open) \
	F(tenbin_service, _pad1) \
	F(tenbin_service, name) \
	S(tenbin_backend) \
	F(tenbin_backend, addr) \
	F(tenbin_backend, family) \
	F(tenbin_backend, flags) \
	F(tenbin_backend, port) \
	F(tenbin_backend, incarnation) \
	F(tenbin_backend, service) \
	F(tenbin_backend, neigh) \
	F(tenbin_backend, mac) \
	F(tenbin_backend, egress_port) \
	F(tenbin_backend, _pad0) \
	F(tenbin_backend, vlan) \
	F(tenbin_backend, weight) \
	F(tenbin_backend, _pad1) \
	S(tenbin_vip_slot) \
	F(tenbin_vip_slot, addr) \
	F(tenbin_vip_slot, port) \
	F(tenbin_vip_slot, proto) \
	F(tenbin_vip_slot, family) \
	F(tenbin_vip_slot, service_plus1) \
	F(tenbin_vip_slot, _pad0) \
	F(tenbin_vip_slot, _pad1) \
	S(tenbin_neigh_key) \
	F(tenbin_neigh_key, addr) \
	F(tenbin_neigh_key, family) \
	F(tenbin_neigh_key, port) \
	F(tenbin_neigh_key, vlan) \
	F(tenbin_neigh_key, tag) \
	F(tenbin_neigh_key, _pad0) \
	F(tenbin_neigh_key, _pad1) \
	S(tenbin_local_addr) \
	F(tenbin_local_addr, addr) \
	F(tenbin_local_addr, family) \
	F(tenbin_local_addr, _pad0) \
	S(tenbin_config_set) \
	F(tenbin_config_set, generation) \
	F(tenbin_config_set, n_services) \
	F(tenbin_config_set, n_backends) \
	F(tenbin_config_set, n_neigh) \
	F(tenbin_config_set, lut_used) \
	F(tenbin_config_set, lut_capacity) \
	F(tenbin_config_set, n_ports) \
	F(tenbin_config_set, neigh_refresh_ms) \
	F(tenbin_config_set, neigh_expire_ms) \
	F(tenbin_config_set, _pad0) \
	F(tenbin_config_set, ports) \
	F(tenbin_config_set, services) \
	F(tenbin_config_set, backends) \
	F(tenbin_config_set, vips) \
	F(tenbin_config_set, neigh) \
	F(tenbin_config_set, local_addrs) \
	S(tenbin_lcore_state) \
	F(tenbin_lcore_state, seen_generation) \
	F(tenbin_lcore_state, heartbeat_ms) \
	F(tenbin_lcore_state, lcore_id) \
	F(tenbin_lcore_state, online) \
	F(tenbin_lcore_state, busy_polls) \
	F(tenbin_lcore_state, idle_polls) \
	F(tenbin_lcore_state, sleeps) \
	F(tenbin_lcore_state, _pad0) \
	S(tenbin_neigh_state) \
	F(tenbin_neigh_state, mac_tag) \
	F(tenbin_neigh_state, updated_ms) \
	F(tenbin_neigh_state, requested_ms) \
	F(tenbin_neigh_state, port) \
	F(tenbin_neigh_state, _pad0) \
	S(tenbin_port_info) \
	F(tenbin_port_info, name) \
	F(tenbin_port_info, mac) \
	F(tenbin_port_info, present) \
	F(tenbin_port_info, link_up) \
	F(tenbin_port_info, speed_mbps) \
	F(tenbin_port_info, n_queues) \
	F(tenbin_port_info, _pad0) \
	S(tenbin_lcore_counters) \
	F(tenbin_lcore_counters, global) \
	F(tenbin_lcore_counters, drops) \
	F(tenbin_lcore_counters, service) \
	F(tenbin_lcore_counters, backend) \
	F(tenbin_lcore_counters, service_reply) \
	F(tenbin_lcore_counters, backend_reply) \
	F(tenbin_lcore_counters, local_conns) \
	S(tenbin_flow) \
	F(tenbin_flow, sig) \
	F(tenbin_flow, expires_ms) \
	F(tenbin_flow, src) \
	F(tenbin_flow, dst) \
	F(tenbin_flow, sport_be) \
	F(tenbin_flow, dport_be) \
	F(tenbin_flow, proto) \
	F(tenbin_flow, family) \
	F(tenbin_flow, state) \
	F(tenbin_flow, flags) \
	F(tenbin_flow, backend) \
	F(tenbin_flow, service) \
	F(tenbin_flow, incarnation) \
	F(tenbin_flow, nat_port_be) \
	F(tenbin_flow, nat_addr) \
	F(tenbin_flow, rev_flags) \
	F(tenbin_flow, peer) \
	S(tenbin_flow_hop) \
	F(tenbin_flow_hop, mac) \
	F(tenbin_flow_hop, port) \
	F(tenbin_flow_hop, _pad0) \
	F(tenbin_flow_hop, vlan) \
	F(tenbin_flow_hop, _pad1) \
	F(tenbin_flow_hop, _pad2) \
	S(tenbin_flow_table_hdr) \
	F(tenbin_flow_table_hdr, n_entries) \
	F(tenbin_flow_table_hdr, sweep_cursor) \
	F(tenbin_flow_table_hdr, _pad0) \
	S(tenbin_shm_header) \
	F(tenbin_shm_header, magic) \
	F(tenbin_shm_header, version) \
	F(tenbin_shm_header, header_size) \
	F(tenbin_shm_header, total_size) \
	F(tenbin_shm_header, n_lcores) \
	F(tenbin_shm_header, lut_capacity) \
	F(tenbin_shm_header, flow_entries) \
	F(tenbin_shm_header, _pad0) \
	F(tenbin_shm_header, lcore_states_offset) \
	F(tenbin_shm_header, config_offset) \
	F(tenbin_shm_header, config_size) \
	F(tenbin_shm_header, neigh_states_offset) \
	F(tenbin_shm_header, port_infos_offset) \
	F(tenbin_shm_header, counters_offset) \
	F(tenbin_shm_header, counters_size) \
	F(tenbin_shm_header, flows_offset) \
	F(tenbin_shm_header, flows_size) \
	F(tenbin_shm_header, _pad1) \
	F(tenbin_shm_header, active) \
	F(tenbin_shm_header, published_generation) \
	F(tenbin_shm_header, control_heartbeat_ms) \
	F(tenbin_shm_header, control_pid) \
	F(tenbin_shm_header, _pad2) \
	F(tenbin_shm_header, dataplane_heartbeat_ms) \
	F(tenbin_shm_header, dataplane_pid) \
	F(tenbin_shm_header, dataplane_started_ms) \
	F(tenbin_shm_header, n_ports) \
	F(tenbin_shm_header, lcores_running) \
	F(tenbin_shm_header, _pad3) \
	/* end */
