#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers (browser for E2E, IPMI simulator, Open vSwitch,
# ISO tools, cloud-init, netplan, Prometheus, and the real lab's Ceph, QEMU and mmdebstrap) when they are missing. Needs root + apt; otherwise says what to install.
set -euo pipefail
declare -A need=(
  [chromium]=/usr/bin/chromium
  [ipmitool]=/usr/bin/ipmitool
  [openipmi]=/usr/bin/ipmi_sim
  [openvswitch-switch]=/usr/sbin/ovs-vswitchd
  [genisoimage]=/usr/bin/genisoimage
  [cloud-init]=/usr/bin/cloud-init
  [netplan.io]=/usr/sbin/netplan
  [prometheus]=/usr/bin/prometheus
  # the real lab (docs/real-lab.md): Ceph, QEMU with its rbd block driver, qemu-img, the guest image builder
  [ceph-mon]=/usr/bin/ceph-mon
  [ceph-mgr]=/usr/bin/ceph-mgr
  [ceph-osd]=/usr/bin/ceph-osd
  [ceph-common]=/usr/bin/rbd
  [qemu-system-x86]=/usr/bin/qemu-system-x86_64
  [qemu-utils]=/usr/bin/qemu-img
  [qemu-block-extra]=/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so
  [mmdebstrap]=/usr/bin/mmdebstrap
  # the floating IP bench's namespace guests (bench/fip-move.ts: checksum offload off on their veths)
  [ethtool]=/usr/sbin/ethtool
  # the emulated DPUs' underlay check (sim/real/dpu.test.ts) and the IPv6 guests of agent/backends/linux-ipv6.test.ts
  [iputils-ping]=/usr/bin/ping
  # network namespaces and veth pairs for the OVS lab's guests (test/ovs-lab.ts, run as root)
  [iproute2]=/usr/sbin/ip
  # the IPMI SOL console's pty helper and the IPMI lab host's chassis hook (sim/real/ipmi-host.ts)
  [python3]=/usr/bin/python3
  # the guest image's partition table (sim/real/guest-image.ts)
  [fdisk]=/usr/sbin/sfdisk
)
missing=()
for pkg in "${!need[@]}"; do [ -e "${need[$pkg]}" ] || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${missing[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Cannot install them here (need root and apt-get). Install: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "apt-get update failed; check the apt mirror" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "apt-get install failed for: ${missing[*]}" >&2
  exit 1
}
