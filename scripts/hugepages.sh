#!/bin/bash
# Reserve 2 MiB hugepages and mount hugetlbfs at /dev/hugepages, for the EAL (--huge) and for
# the shared region (tenbin puts it at /dev/hugepages/tenbin when hugetlbfs is mounted there,
# which saves TLB misses on the flow tables). Usage: scripts/hugepages.sh [PAGES|off]
set -euo pipefail
pages=${1:-1024}
if [ "$pages" = off ]; then
	umount /dev/hugepages 2>/dev/null || true
	echo 0 >/proc/sys/vm/nr_hugepages
	echo "hugepages released"
	exit 0
fi
echo "$pages" >/proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
echo "hugepages: $got of $pages reserved ($((got * 2)) MiB), hugetlbfs on /dev/hugepages"
[ "$got" -ge "$pages" ] || echo "fewer than asked: memory is fragmented; try again or reboot" >&2
