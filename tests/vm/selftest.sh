#!/usr/bin/env bash
# selftest.sh: prove run-in-vm.sh gives a cgroup-v2-only guest that can do
# what the lessons need, and that exit codes and timeouts come back right.
# Runs as root or not (qemu TCG needs no privileges; the kernel cache dir
# must be writable). Prints PASS/FAIL per case and exits non-zero on failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RUN=$HERE/run-in-vm.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/containerlab-vm-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0

pass() { echo "selftest: PASS $*"; }
fail() {
    echo "selftest: FAIL $*"
    FAILED=1
}

# A dynamically linked Rust binary, like the containerlab binary will be:
# it proves that ldd's libraries and the loader reach the guest. Without
# rustc, a dynamically linked host binary proves the same thing.
DYN=$WORK/clab-dyn
if command -v rustc >/dev/null; then
    cat >"$WORK/dyn.rs" <<'EOF'
fn main() {
    let cg = std::fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    println!("clab-dyn: rust says cgroup={}", cg.trim());
}
EOF
    rustc -O -o "$DYN" "$WORK/dyn.rs"
    DYN_EXPECT='clab-dyn: rust says cgroup=0::/'
else
    cp "$(command -v id)" "$DYN"
    DYN_EXPECT='0'
fi
if ! ldd "$DYN" | grep -q 'libc.so'; then
    echo "selftest: $DYN is not dynamically linked; the library copy is not exercised" >&2
    exit 1
fi

# The checks that run inside the guest. Each prints "ok NAME" or "FAIL NAME";
# the script exits 7 only when all passed, so exit 7 also proves exit codes.
cat >"$WORK/guest-checks" <<EOF
#!/bin/sh
bad=0
check() { name=\$1; shift; if "\$@"; then echo "ok \$name"; else echo "FAIL \$name"; bad=1; fi; }

# The root the privileged lesson needs: ext4 straight from a block device.
check "/ is ext4 on /dev/vda" sh -c 'grep " / / " /proc/self/mountinfo | grep -q " - ext4 /dev/vda " &&
    test -b /dev/vda'
check "cgroup is 0::/" test "\$(cat /proc/self/cgroup)" = "0::/"
check "cgroup2 on /sys/fs/cgroup" grep -q '^[^ ]* /sys/fs/cgroup cgroup2 ' /proc/mounts
check "v1 memory hierarchy refused" sh -c 'mkdir -p /tmp/clab-v1 &&
    if mount -t cgroup -o memory clab-v1 /tmp/clab-v1 2>/dev/null; then umount /tmp/clab-v1; exit 1; fi' 
check "controllers has memory" grep -qw memory /sys/fs/cgroup/cgroup.controllers
check "controllers has pids" grep -qw pids /sys/fs/cgroup/cgroup.controllers
check "memory cgroup usable" sh -c 'echo +memory +pids > /sys/fs/cgroup/cgroup.subtree_control &&
    mkdir /sys/fs/cgroup/clab-t && echo 64M > /sys/fs/cgroup/clab-t/memory.max &&
    test "\$(cat /sys/fs/cgroup/clab-t/memory.max)" = 67108864 && rmdir /sys/fs/cgroup/clab-t'
check "overlay registered" grep -qw overlay /proc/filesystems
check "overlay mounts" sh -c 'mkdir -p /tmp/clab-l /tmp/clab-u /tmp/clab-w /tmp/clab-m &&
    echo lower > /tmp/clab-l/f &&
    mount -t overlay overlay -o lowerdir=/tmp/clab-l,upperdir=/tmp/clab-u,workdir=/tmp/clab-w /tmp/clab-m &&
    test "\$(cat /tmp/clab-m/f)" = lower && umount /tmp/clab-m'
# busybox ip cannot name the peer; the kernel calls it vethN.
check "veth pair" sh -c 'ip link add clab-t0 type veth && ip link show clab-t0 | grep -q "clab-t0@veth" &&
    ip link del clab-t0'
check "hostname vm" test "\$(hostname)" = vm
check "lo up" sh -c 'ip link show lo | grep -q UP'
check "root is shared" sh -c 'grep " / / " /proc/self/mountinfo | grep -q shared:'
check "pivot_root in a mount ns" unshare -m sh -c 'mount --make-rprivate / &&
    mkdir -p /tmp/clab-nr && mount -t tmpfs clab-nr /tmp/clab-nr &&
    mkdir -p /tmp/clab-nr/old /tmp/clab-nr/bin && cp /bin/busybox /tmp/clab-nr/bin/ &&
    cd /tmp/clab-nr && pivot_root . old && exec /bin/busybox test -d /old/proc'
check "user namespace" test "\$(unshare -U -r id -u)" = 0
check "dynamic binary" sh -c 'clab-dyn | tee /dev/stderr | grep -qx "$DYN_EXPECT"'
[ \$bad = 0 ] && exit 7
exit 1
EOF
chmod +x "$WORK/guest-checks"

start=$(date +%s)
set +e
"$RUN" --timeout 300 --file "$DYN" --file "$WORK/guest-checks:/usr/local/bin/clab-checks" -- clab-checks \
    | tee "$WORK/v2.out"
rc=${PIPESTATUS[0]}
set -e
end=$(date +%s)
if [[ $rc == 7 ]] && ! grep -q '^FAIL' "$WORK/v2.out"; then
    pass "cgroup v2 guest: all checks, exit 7 came back ($((end - start))s)"
else
    fail "cgroup v2 guest: exit $rc, expected 7 (see FAIL lines above)"
fi

set +e
# shellcheck disable=SC2016 # expanded by the guest shell
"$RUN" --cgroup hybrid --timeout 300 -- sh -c '
    grep -q "^[0-9]*:memory:/$" /proc/self/cgroup &&
    test -e /sys/fs/cgroup/memory/memory.limit_in_bytes &&
    grep -q "^[^ ]* /sys/fs/cgroup/unified cgroup2 " /proc/mounts &&
    ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers' | tee "$WORK/hybrid.out"
rc=${PIPESTATUS[0]}
set -e
if [[ $rc == 0 ]]; then pass "hybrid guest: memory on v1, cgroup2 at unified without memory"; else fail "hybrid guest: exit $rc"; fi

set +e
"$RUN" --timeout 15 -- sleep 1000 >"$WORK/timeout.out" 2>&1
rc=$?
set -e
if [[ $rc == 124 ]]; then pass "timeout: exit 124"; else fail "timeout: exit $rc, expected 124"; fi

set +e
"$RUN" --timeout 60 -- sh -c 'echo "@@CLAB-EXIT=3@@"; exit 0' >"$WORK/marker.out" 2>&1
rc=$?
set -e
if [[ $rc == 0 ]]; then pass "a command printing the marker does not fool the harness"; else fail "marker spoof: exit $rc"; fi

exit "$FAILED"
