#!/usr/bin/env bash
# The test command of the README: installs what the tests need (Debian 12 / Ubuntu 24.04, as
# root), then runs the whole workspace's tests. Arguments go to `cargo test`.
#
#   tests/run.sh                 every test
#   tests/run.sh --test msrv     one test target
#
# .ci/run calls this same script after fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $(id -u) -eq 0 ]] || { echo "tests/run.sh: run as root (the integration tests unshare, mount and make cgroups)" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
# busybox-static: the chroot/layers rootfs and the VM's userland; iputils-ping + libcap2-bin: the
# caps and net lessons; nftables: `nft`, the bridge lesson's NAT rules (also copied into the VM); qemu-system-x86 + cpio + xz-utils
# + e2fsprogs (mkfs.ext4, the guest's root disk): the cgroup-v2 VM test; tmux: the TUI
# end-to-end test; shellcheck + ruby: checks of the Vagrant provisioning; debootstrap: the test that
# runs vagrant/provision.sh in a fresh Debian 12 chroot (tests/provision.rs).
packages=(busybox-static iputils-ping iproute2 libcap2-bin util-linux procps nftables
    qemu-system-x86 cpio xz-utils e2fsprogs tmux shellcheck ruby debootstrap)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "tests/run.sh: installing ${missing[*]}" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec cargo test --workspace "$@"
