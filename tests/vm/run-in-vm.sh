#!/usr/bin/env bash
# run-in-vm.sh: run one command as root inside a throw-away Debian-kernel VM.
#
# Why: containerlab's lessons must work on cgroup-v2-only machines, but a CI
# runner or dev box may be cgroup-v1 hybrid. Booting a real Debian 12 kernel
# with `cgroup_no_v1=all` under qemu gives us the same kernel view a learner's
# machine has (or, with --cgroup hybrid, the v1+v2 layout of older hosts).
#
# The guest has one disk and no network device: root is an ext4 filesystem on
# /dev/vda (a sparse image in this script's temp dir), filled at boot from an
# initramfs that holds busybox, the files given with --file (plus the shared
# libraries they need), and the kernel modules the lessons use. A disk, not a
# tmpfs, because a learner's `/` is one: the privileged lesson mounts the
# block device `/` lives on.
#
# Exit status: the guest command's exit status; 124 on timeout; 125 if the
# guest never reported an exit status (boot failure, kernel panic, ...);
# 2 on usage errors; 1 on host-side setup errors.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: run-in-vm.sh [options] -- COMMAND [ARGS...]

options:
  --cgroup v2|hybrid     cgroup layout in the guest (default v2: cgroup_no_v1=all,
                         cgroup2 on /sys/fs/cgroup; hybrid: v1 memory, pids,
                         cpu,cpuacct + cgroup2 on /sys/fs/cgroup/unified)
  --mem MIB              guest memory (default 1024)
  --smp N                guest CPUs (default 2)
  --timeout SECONDS      kill the VM after this long, exit 124 (default 300)
  --file HOST[:GUEST]    copy a file or directory into the guest (repeatable);
                         default GUEST is /usr/local/bin/NAME for files and
                         /usr/local/share/NAME for directories; the shared
                         libraries of ELF files (ldd) come along
  --module NAME          also load this kernel module (repeatable; overlay and
                         veth are always loaded; dependencies are resolved)
  --accel tcg|kvm        qemu accelerator (default tcg, or $CONTAINERLAB_VM_ACCEL)
  --append ARGS          extra kernel command line arguments
  --log FILE             also keep the console log here
                         (default $CACHE/last-run.log)
  -h, --help             this help

environment:
  CONTAINERLAB_VM_CACHE  kernel cache dir (default /var/cache/containerlab-vm)
  CONTAINERLAB_VM_KERNEL_PKG  kernel package to use instead of the one
                         linux-image-amd64 depends on
EOF
}

die() {
    echo "run-in-vm: $*" >&2
    exit 1
}

log() {
    echo "run-in-vm: $*" >&2
}

CGROUP=v2
MEM=1024
SMP=2
TIMEOUT=300
ACCEL=${CONTAINERLAB_VM_ACCEL:-tcg}
APPEND=""
LOG_FILE=""
FILES=()
# The bridge lesson: a bridge, and nf_tables NAT (masquerade, dnat) with conntrack. libcrc32c
# (which nf_tables and nf_conntrack depend on) asks the crypto API for "crc32c" when it loads,
# which only a softdep names and no modprobe in the guest resolves: crc32c_generic goes first.
# The root disk: virtio_pci and virtio_blk for /dev/vda, ext4 (which wants crc32c too) for `/`.
# tcp_diag (with inet_diag): the lab lists listening sockets over sock_diag netlink, like ss; a
# learner's kernel loads it on the first such request, but that autoload calls modprobe, which
# cannot resolve modules here (no modules.dep).
MODULES=(crc32c_generic virtio_pci virtio_blk ext4 overlay veth bridge nf_tables nf_conntrack nf_nat
    nft_chain_nat nft_masq nft_nat tcp_diag)
CACHE=${CONTAINERLAB_VM_CACHE:-/var/cache/containerlab-vm}

need_arg() {
    [[ $# -ge 2 ]] || { echo "run-in-vm: $1 needs a value" >&2; usage >&2; exit 2; }
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --cgroup) need_arg "$@"; CGROUP=$2; shift 2 ;;
        --mem) need_arg "$@"; MEM=$2; shift 2 ;;
        --smp) need_arg "$@"; SMP=$2; shift 2 ;;
        --timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
        --file) need_arg "$@"; FILES+=("$2"); shift 2 ;;
        --module) need_arg "$@"; MODULES+=("$2"); shift 2 ;;
        --accel) need_arg "$@"; ACCEL=$2; shift 2 ;;
        --append) need_arg "$@"; APPEND=$2; shift 2 ;;
        --log) need_arg "$@"; LOG_FILE=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "run-in-vm: unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

[[ $# -gt 0 ]] || { echo "run-in-vm: no COMMAND given" >&2; usage >&2; exit 2; }
case $CGROUP in v2 | hybrid) ;; *) echo "run-in-vm: --cgroup must be v2 or hybrid" >&2; exit 2 ;; esac
case $ACCEL in tcg | kvm) ;; *) echo "run-in-vm: --accel must be tcg or kvm" >&2; exit 2 ;; esac
for n in "$MEM" "$SMP" "$TIMEOUT"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run-in-vm: not a positive number: $n" >&2; exit 2; }
done
LOG_FILE=${LOG_FILE:-$CACHE/last-run.log}

for tool in qemu-system-x86_64 busybox cpio gzip flock mkfs.ext4; do
    command -v "$tool" >/dev/null || die "missing host tool '$tool' (apt-get install qemu-system-x86 busybox-static cpio gzip util-linux e2fsprogs)"
done
BUSYBOX=$(command -v busybox)
# A dynamically linked busybox would need its own libraries in the guest.
BUSYBOX_LDD=$(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true)
if [[ $BUSYBOX_LDD != *'not a dynamic executable'* && $BUSYBOX_LDD != *'statically linked'* ]]; then
    die "$BUSYBOX is not static: apt-get install busybox-static"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/containerlab-vm.XXXXXX")
QEMU_PID=""
WATCHDOG_PID=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
    # Only the processes this script started, by pid.
    if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then kill "$QEMU_PID" 2>/dev/null || true; fi
    if [[ -n $WATCHDOG_PID ]] && kill -0 "$WATCHDOG_PID" 2>/dev/null; then kill "$WATCHDOG_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# 1. Kernel: a Debian 12 linux-image package, extracted once into the cache.
# ---------------------------------------------------------------------------
mkdir -p "$CACHE/kernels" "$CACHE/debs"

resolve_kernel_pkg() {
    if [[ -n ${CONTAINERLAB_VM_KERNEL_PKG:-} ]]; then
        echo "$CONTAINERLAB_VM_KERNEL_PKG"
        return
    fi
    local pkg=""
    if command -v apt-cache >/dev/null; then
        # linux-image-amd64 is a meta package; it depends on the real, versioned one.
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    fi
    if [[ -z $pkg ]]; then
        # Offline or no apt: fall back to the newest kernel already in the cache.
        pkg=$(find "$CACHE/kernels" -mindepth 2 -maxdepth 2 -name .complete -printf '%h\n' 2>/dev/null |
            xargs -r -n1 basename | sort -V | tail -n1)
    fi
    [[ -n $pkg ]] || die "cannot resolve the kernel package: apt-cache knows no linux-image-amd64 and the cache at $CACHE is empty (run apt-get update)"
    echo "$pkg"
}

fetch_kernel() {
    local pkg=$1 dir=$CACHE/kernels/$1
    [[ -e $dir/.complete ]] && return 0
    log "downloading $pkg into $CACHE (only on first use)"
    local dl
    dl=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
    # The meta package only names the real one; keep it next to it for reference.
    # Sandbox::User=root: the temp dir is root-only, apt's _apt user cannot write it.
    (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root linux-image-amd64 "$pkg" >&2) ||
        { rm -rf "$dl"; die "apt-get download $pkg failed (is the Debian mirror reachable? apt-get update?)"; }
    mv -f "$dl"/*.deb "$CACHE/debs/"
    rmdir "$dl"
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    local debs=("$CACHE/debs/${pkg}"_*.deb)
    dpkg -x "${debs[-1]}" "$dir.tmp"
    mv "$dir.tmp" "$dir"
    touch "$dir/.complete"
}

# Two runs at once must not both extract into the same directory.
exec 9>"$CACHE/.lock"
flock 9
KPKG=$(resolve_kernel_pkg)
fetch_kernel "$KPKG"
flock -u 9
exec 9>&-

KDIR=$CACHE/kernels/$KPKG
VMLINUZ=$(find "$KDIR/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
[[ -n $VMLINUZ ]] || die "no vmlinuz in $KDIR/boot; delete $KDIR and retry"
KVER=${VMLINUZ##*/vmlinuz-}
MODROOT=$KDIR/lib/modules/$KVER

# ---------------------------------------------------------------------------
# 2. Initramfs.
# ---------------------------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc/containerlab-vm,proc,sys,dev,run,tmp,root,newroot}
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"

# busybox and its applet links (never overwriting a file copied in later).
cp "$BUSYBOX" "$ROOT/bin/busybox"
while read -r applet; do
    [[ -e $ROOT/$applet || -L $ROOT/$applet ]] && continue
    mkdir -p "$ROOT/$(dirname "$applet")"
    ln -s /bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'vm\n' >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vm\n::1 localhost\n' >"$ROOT/etc/hosts"

is_elf() {
    [[ $(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n') == 7f454c46 ]]
}

# Copy the shared libraries an ELF file needs (as ldd on this host resolves
# them) to the same absolute paths in the guest, plus the dynamic loader.
# The guest's loader has no ld.so.cache, but it searches Debian's multiarch
# dirs (/lib/x86_64-linux-gnu, ...) by default, which is where they land.
copy_libs() {
    local lib
    LC_ALL=C ldd "$1" 2>/dev/null | while read -r line; do
        case $line in
            *'=> /'*) lib=${line#*=> }; lib=${lib%% *} ;;
            /*) lib=${line%% *} ;;
            *) continue ;;
        esac
        [[ -e $ROOT$lib ]] && continue
        mkdir -p "$ROOT$(dirname "$lib")"
        cp -L "$lib" "$ROOT$lib"
    done
}

for spec in "${FILES[@]}"; do
    host=${spec%%:*}
    [[ -e $host ]] || die "--file $host: no such file or directory"
    if [[ $spec == *:* ]]; then
        guest=${spec#*:}
    elif [[ -d $host ]]; then
        guest=/usr/local/share/$(basename "$host")
    else
        guest=/usr/local/bin/$(basename "$host")
    fi
    [[ $guest == /* ]] || die "--file $spec: guest path must be absolute"
    mkdir -p "$ROOT$(dirname "$guest")"
    rm -f "$ROOT$guest" # may be a busybox applet link
    cp -a -L "$host" "$ROOT$guest"
    if [[ -d $host ]]; then
        while IFS= read -r -d '' f; do
            is_elf "$f" && copy_libs "$f"
        done < <(find "$host" -type f -perm -u+x -print0)
    elif is_elf "$host"; then
        copy_libs "$host"
    fi
done

# Kernel modules: resolve dependencies from each module's .modinfo
# "depends=" entry (the .deb ships no modules.dep; depmod runs at install).
# Module file names use '-' or '_' interchangeably; depends= uses '_'.
find_module() {
    local dash=${1//_/-} under=${1//-/_}
    find "$MODROOT/kernel" \( -name "$dash.ko" -o -name "$dash.ko.*" -o -name "$under.ko" -o -name "$under.ko.*" \) -print -quit
}

mod_cat() {
    case $1 in
        *.ko) cat "$1" ;;
        *.ko.xz) xz -dc "$1" ;;
        *.ko.zst) zstd -dcq "$1" ;;
        *.ko.gz) gzip -dc "$1" ;;
        *) die "unknown module format: $1" ;;
    esac
}

declare -A MOD_DONE=()
MOD_ORDER=()
add_module() {
    local name=${1//-/_} dep deps file
    [[ -n ${MOD_DONE[$name]:-} ]] && return 0
    MOD_DONE[$name]=1
    if grep -qE "/(${1}|${name})\.ko$" "$MODROOT/modules.builtin" 2>/dev/null; then
        return 0 # built into the kernel: nothing to load
    fi
    file=$(find_module "$name")
    [[ -n $file ]] || die "kernel $KVER has no module '$1'"
    mkdir -p "$ROOT/lib/modules/$KVER"
    mod_cat "$file" >"$WORK/mod.ko"
    deps=$(tr '\0' '\n' <"$WORK/mod.ko" | sed -n 's/^depends=//p' | head -n1)
    mv "$WORK/mod.ko" "$ROOT/lib/modules/$KVER/$name.ko"
    # Dependencies first, so insmod (which does not resolve them) succeeds.
    for dep in ${deps//,/ }; do add_module "$dep"; done
    MOD_ORDER+=("$name")
}
for m in "${MODULES[@]}"; do add_module "$m"; done
: >"$ROOT/etc/containerlab-vm/modules"
for m in "${MOD_ORDER[@]}"; do
    echo "/lib/modules/$KVER/$m.ko" >>"$ROOT/etc/containerlab-vm/modules"
done

# The command, quoted for sh.
quote() {
    local s=${1//\'/\'\\\'\'}
    printf "'%s'" "$s"
}
{
    printf 'exec'
    for a in "$@"; do printf ' %s' "$(quote "$a")"; done
    printf '\n'
} >"$ROOT/etc/containerlab-vm/cmd"
echo "$CGROUP" >"$ROOT/etc/containerlab-vm/cgroup"

# Stage 1 (/init, on the kernel's rootfs): load the modules, copy everything
# onto the ext4 disk and switch_root into it. rootfs cannot be pivot_root'ed
# away or unmounted, so container code that calls pivot_root would fail there;
# a real distro also runs from its disk after its initramfs. The copy is made
# here rather than with `mke2fs -d` on the host so that every file is root's
# (cpio -R 0:0) even when this script does not run as root.
cat >"$ROOT/init" <<'EOF'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
while read -r mod; do
    insmod "$mod" || echo "containerlab-vm: insmod $mod failed"
done </etc/containerlab-vm/modules
# virtio_blk probes the disk asynchronously: wait (up to 10 s) for its node.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || { echo "containerlab-vm: cannot mount /dev/vda"; poweroff -f; }
for entry in /*; do
    case $entry in /newroot | /proc | /sys | /dev) continue ;; esac
    cp -a "$entry" /newroot/
done
mkdir -p /newroot/proc /newroot/sys /newroot/dev
# Our stdio is open on /dev/console, so /dev moves along instead of unmounting.
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/containerlab-init
EOF

# Stage 2 (pid 1 on the disk): set up the system, run the command,
# report its exit status on the console and power off.
cat >"$ROOT/sbin/containerlab-init" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q '^[^ ]* /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t tmpfs -o mode=0755,nosuid,nodev run /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmp /tmp

case $(cat /etc/containerlab-vm/cgroup) in
v2)
    mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
    ;;
hybrid)
    mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
    for c in memory pids cpu,cpuacct; do
        mkdir -p "/sys/fs/cgroup/$c"
        mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
    done
    ln -s cpu,cpuacct /sys/fs/cgroup/cpu
    ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
    mkdir -p /sys/fs/cgroup/unified
    mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup/unified
    ;;
esac

# systemd makes / shared at boot; lessons expect that starting point.
mount --make-rshared /
hostname vm
ip link set lo up
cd /root

sh /etc/containerlab-vm/cmd </dev/null
rc=$?
# Own line even if the command's last output had no newline.
echo
echo "@@CLAB-EXIT=$rc@@"
sync
poweroff -f
EOF
chmod 0755 "$ROOT/init" "$ROOT/sbin/containerlab-init"

INITRD=$WORK/initramfs.cpio.gz
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$INITRD"

# The root disk: the tree, and 1 GiB for what the command writes outside the
# tmpfs mounts (/tmp, /run). Sparse, so only what is written takes host space;
# the inode tables and journal are written now so that the guest's ext4lazyinit
# thread does not compete with the command for the emulated CPU.
DISK=$WORK/root.ext4
DISK_MIB=$(($(du -sm "$ROOT" | cut -f1) + 1024))
truncate -s "${DISK_MIB}M" "$DISK"
mkfs.ext4 -q -F -L clab-root -E lazy_itable_init=0,lazy_journal_init=0 "$DISK" ||
    die "mkfs.ext4 $DISK failed"

# ---------------------------------------------------------------------------
# 3. Boot.
# ---------------------------------------------------------------------------
CMDLINE="console=ttyS0 quiet panic=-1 rdinit=/init"
[[ $CGROUP == v2 ]] && CMDLINE+=" cgroup_no_v1=all"
[[ -n $APPEND ]] && CMDLINE+=" $APPEND"

CONSOLE=$WORK/console.log
: >"$CONSOLE"
log "booting $KVER ($ACCEL, ${MEM}M, cgroup $CGROUP, timeout ${TIMEOUT}s)"
qemu-system-x86_64 -accel "$ACCEL" -m "$MEM" -smp "$SMP" -nographic -no-reboot \
    -nic none -drive "file=$DISK,if=virtio,format=raw" \
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "$CMDLINE" \
    </dev/null >"$CONSOLE" 2>&1 &
QEMU_PID=$!

# Stream the console as it arrives, without the CRs of the serial line and
# the terminal escapes SeaBIOS sends (screen clear, no-wrap).
clean_console() {
    sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g'
}
tail -n +1 -f --pid="$QEMU_PID" "$CONSOLE" | clean_console &
STREAM_PID=$!

# Watchdog: kill qemu after the timeout; the marker file tells us it fired.
# It sleeps in 1 s steps with no stdout, so nothing of it outlives qemu by
# more than a second or holds the caller's output pipe open.
(
    for ((i = 0; i < TIMEOUT; i++)); do
        sleep 1
        kill -0 "$QEMU_PID" 2>/dev/null || exit 0
    done
    touch "$WORK/timed-out"
    kill "$QEMU_PID" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
WATCHDOG_PID=$!

set +e
wait "$QEMU_PID"
QEMU_RC=$?
set -e
QEMU_PID=""
kill "$WATCHDOG_PID" 2>/dev/null || true
wait "$WATCHDOG_PID" 2>/dev/null || true
WATCHDOG_PID=""
wait "$STREAM_PID" 2>/dev/null || true

mkdir -p "$(dirname "$LOG_FILE")"
clean_console <"$CONSOLE" >"$LOG_FILE" || log "could not write $LOG_FILE"

# The last marker is the one pid 1 printed after the command exited.
RC=$(clean_console <"$CONSOLE" | sed -n 's/.*@@CLAB-EXIT=\([0-9]\{1,3\}\)@@$/\1/p' | tail -n1)
if [[ -n $RC ]]; then
    exit "$RC"
elif [[ -e $WORK/timed-out ]]; then
    log "timed out after ${TIMEOUT}s (log: $LOG_FILE)"
    exit 124
else
    log "the guest never reported an exit status (qemu exit $QEMU_RC; log: $LOG_FILE)"
    exit 125
fi
