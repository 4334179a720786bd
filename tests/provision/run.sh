#!/usr/bin/env bash
# run.sh: test vagrant/provision.sh for real on a fresh Debian 12 root filesystem.
#
# debootstraps Debian 12 (minbase) into a directory this script owns, mounts /proc, /sys and /dev
# into it (in a private mount namespace of its own, so nothing propagates to the host, and
# unmounted by a trap even on failure), copies in a built containerlab binary and the
# provisioning script, runs the script inside by chroot TWICE (the second run must change
# nothing), then checks the result: `containerlab doctor` inside reports root, busybox and ping,
# the rootfs cache was built, the login greeting is there, and the uts lesson plays. The chroot
# shares the host's kernel, so kernel probes (cgroups, veth, ...) report the host.
#
# usage: run.sh --binary PATH [--work DIR] [--keep]
#   --binary PATH   the containerlab binary to install (provision.sh --binary; rustup is not used)
#   --work DIR      an empty directory to build the root filesystem in (default: a new one under
#                   /var/tmp); removed at the end unless --keep
#   --keep          keep the root filesystem (for looking around afterwards)
#
# environment:
#   CONTAINERLAB_PROVISION_CACHE   where the debootstrap tarball is kept between runs (default
#                                  /var/cache/containerlab-provision; the first run downloads
#                                  ~45 MB, later runs unpack it offline)
#   CONTAINERLAB_PROVISION_MIRROR  Debian mirror (default: the first bookworm URI configured in
#                                  /etc/apt/sources.list*, else http://deb.debian.org/debian)
#
# Prints `PROVISION-TEST: PASS` as its last line and exits 0 when everything holds.
set -euo pipefail

die() { printf 'provision-test: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'provision-test: %s\n' "$*"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BINARY=""
WORK=""
KEEP=0
ORIG_ARGS=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
        --binary) BINARY=${2:?--binary needs a path}; shift 2 ;;
        --work) WORK=${2:?--work needs a directory}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "provision-test: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -n $BINARY ]] || { echo "provision-test: --binary PATH is required" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, chroot and mount need it)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
BINARY=$(realpath "$BINARY")
[[ -x $BINARY ]] || die "$BINARY is not an executable file"

# Everything below runs in a mount namespace of its own whose mounts are private: the /proc,
# /sys and /dev mounts of the chroot never show up in (or propagate to) the host's namespace,
# and vanish with the namespace even if the trap below could not run.
if [[ -z ${CONTAINERLAB_PROVISION_NS:-} ]]; then
    export CONTAINERLAB_PROVISION_NS=1
    exec unshare --mount --propagation private -- bash "$0" "${ORIG_ARGS[@]}"
fi

CACHE=${CONTAINERLAB_PROVISION_CACHE:-/var/cache/containerlab-provision}
ARCH=$(dpkg --print-architecture)
SUITE=bookworm

find_mirror() {
    local f uri
    # deb822 .sources files: a stanza whose Suites has "bookworm" itself.
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$SUITE" '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; ok=0
                for (i=1; i<=NF; i++) {
                    if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u=a[1] }
                    if ($i ~ /^Suites:/) { n=split($i, s, /[ \t]+/); for (j=2; j<=n; j++) if (s[j]==suite) ok=1 }
                }
                if (ok && u != "") { print u; exit }
            }' "$f")
        if [[ -n $uri ]]; then echo "$uri"; return; fi
    done
    # one-line format: deb [options] URI SUITE COMPONENTS
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$SUITE" '$1=="deb" { sub(/\[[^]]*\][ \t]*/, ""); if ($3==suite) { print $2; exit } }' "$f")
        if [[ -n $uri ]]; then echo "$uri"; return; fi
    done
    echo http://deb.debian.org/debian
}
MIRROR=${CONTAINERLAB_PROVISION_MIRROR:-$(find_mirror)}

OWN_WORK=0
if [[ -z $WORK ]]; then
    WORK=$(mktemp -d /var/tmp/containerlab-provision.XXXXXX)
    OWN_WORK=1
fi
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
ROOT=$WORK/rootfs
[[ ! -e $ROOT ]] || die "$ROOT already exists: give an empty --work directory"

# Unmounts everything under $ROOT, deepest first; then removes the work directory (only when
# nothing is mounted there any more: rm -rf through a /dev or /sys bind mount would hurt).
mounted_under_root() {
    awk -v root="$ROOT" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
cleanup() {
    local rc=$? m
    for m in $(mounted_under_root); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if [[ -n $(mounted_under_root) ]]; then
        echo "provision-test: still mounted under $ROOT, not removing it:" >&2
        mounted_under_root >&2
        rc=1
    elif [[ $KEEP == 1 ]]; then
        say "kept $ROOT"
    else
        rm -rf --one-file-system "$ROOT"
        if [[ $OWN_WORK == 1 ]]; then rm -rf --one-file-system "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }

say "mirror $MIRROR, $SUITE/$ARCH, work dir $WORK"

# 1. The debootstrap tarball: downloaded once, then reused (offline) by every run.
TARBALL=$CACHE/$SUITE-$ARCH-minbase.tgz
t=$(seconds)
if [[ ! -s $TARBALL ]]; then
    mkdir -p "$CACHE"
    say "downloading the $SUITE packages once into $TARBALL"
    tmpdir=$(mktemp -d "$CACHE/.make.XXXXXX")
    debootstrap --variant=minbase --arch="$ARCH" --make-tarball="$TARBALL.part" \
        "$SUITE" "$tmpdir/target" "$MIRROR" >"$CACHE/make-tarball.log" 2>&1 \
        || { rm -rf "$tmpdir"; die "debootstrap --make-tarball failed; see $CACHE/make-tarball.log"; }
    rm -rf "$tmpdir"
    mv -f "$TARBALL.part" "$TARBALL"
    say "tarball ready ($(elapsed "$t"))"
fi

# 2. A fresh Debian 12 root filesystem.
t=$(seconds)
say "debootstrap $SUITE into $ROOT"
debootstrap --variant=minbase --arch="$ARCH" --unpack-tarball="$TARBALL" \
    "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
say "TIMING debootstrap: $(elapsed "$t")"
# apt inside must see the same mirror and resolve names; no daemon may start in a chroot.
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOT/etc/apt/sources.list"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"

# 3. The kernel's filesystems, as a booted system has them. rslave: the host's later mounts
# reach the chroot, nothing flows back (and the whole namespace is private anyway).
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --make-rslave "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
# The downloaded .debs are kept between test runs (apt's own cache, bind-mounted).
mkdir -p "$CACHE/apt-archives/partial"
mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives"
mount --make-private "$ROOT/var/cache/apt/archives"

# 4. The binary and the script, where a learner's VM would have them.
install -D -m 0755 "$BINARY" "$ROOT/opt/containerlab-dist/containerlab"
install -D -m 0755 "$REPO/vagrant/provision.sh" "$ROOT/opt/containerlab-dist/provision.sh"

in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
provision() {
    in_root bash /opt/containerlab-dist/provision.sh --binary /opt/containerlab-dist/containerlab
}
fingerprint() { # what provisioning made, with inode numbers and times: a re-run must keep them
    (cd "$ROOT" && stat -c '%n %i %Y %s' usr/local/bin/containerlab etc/profile.d/containerlab.sh \
        usr/share/bash-completion/completions/containerlab usr/local/share/man/man1/containerlab.1 \
        var/cache/containerlab/rootfs var/cache/containerlab/rootfs/etc/containerlab-rootfs-version)
    # shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
    in_root dpkg-query -W -f='${Package} ${Version}\n' | sort | md5sum
}

# 5. Provision, twice.
t=$(seconds)
say "provision.sh, first run"
provision 2>&1 | tee "$WORK/provision-1.log" | sed 's/^/  | /'
say "TIMING provision (first run): $(elapsed "$t")"
first=$(fingerprint)

t=$(seconds)
say "provision.sh, second run (must change nothing)"
provision 2>&1 | tee "$WORK/provision-2.log" | sed 's/^/  | /'
say "TIMING provision (second run): $(elapsed "$t")"
second=$(fingerprint)

fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then say "ok: $what"; else say "FAILED: $what"; fail=1; fi
}
check "the second run changed nothing (same files, inodes, times, packages)" \
    test "$first" == "$second"
check "the second run installed no package" \
    grep -q 'packages already installed' "$WORK/provision-2.log"
check "the second run kept the installed binary" \
    grep -q 'is already this binary' "$WORK/provision-2.log"
# shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
not_installed() { ! in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
check "no build tools were installed for a given binary" not_installed build-essential
check "containerlab is on PATH in /usr/local/bin" \
    test "$(in_root sh -c 'command -v containerlab')" == /usr/local/bin/containerlab
check "bash completion is installed" \
    grep -q containerlab "$ROOT/usr/share/bash-completion/completions/containerlab"
check "the man page is installed" test -s "$ROOT/usr/local/share/man/man1/containerlab.1"
check "the busybox rootfs cache was built" \
    test -x "$ROOT/var/cache/containerlab/rootfs/bin/busybox"

# 6. doctor: root, busybox and ping must be there (kernel rows describe the host).
in_root containerlab doctor >"$WORK/doctor.txt" 2>&1 || true
sed 's/^/  | /' "$WORK/doctor.txt"
for row in root busybox ping; do
    check "doctor: $row yes" grep -Eq "^$row +yes " "$WORK/doctor.txt"
done

# 7. The greeting of an interactive login shell.
in_root bash -lic true >"$WORK/login.txt" 2>&1 || true
check "a login shell greets the learner" grep -q 'Welcome to containerlab' "$WORK/login.txt"

# 8. A lesson plays inside.
t=$(seconds)
if in_root env CONTAINERLAB_STATE_DIR=/tmp/state containerlab run lesson uts --headless \
        >"$WORK/uts.txt" 2>&1; then
    say "ok: the uts lesson passes inside ($(elapsed "$t"))"
else
    sed 's/^/  | /' "$WORK/uts.txt"
    say "FAILED: the uts lesson inside"
    fail=1
fi

# 9. The other way in: build from a source tree with a toolchain already there. The real
# toolchain is not downloaded here (no rustup site), and a release build would take minutes, so
# /opt/rust/bin holds a stand-in cargo that logs how it was called and "builds" by copying the
# binary. Everything around it is real: the build packages are installed, the toolchain is found
# and its version checked, the result is installed and prepared.
mkdir -p "$ROOT/opt/rust/bin" "$ROOT/opt/containerlab-src"
cp "$REPO/Cargo.toml" "$REPO/Cargo.lock" "$ROOT/opt/containerlab-src/"
printf '%s\n' '#!/bin/sh' 'echo "rustc 1.91.0 (stand-in for the provisioning test)"' \
    >"$ROOT/opt/rust/bin/rustc"
# shellcheck disable=SC2016 # the stand-in's own script, expanded when it runs
printf '%s\n' '#!/bin/sh' \
    'echo "cwd=$(pwd) target=$CARGO_TARGET_DIR rustup_home=$RUSTUP_HOME args=$*" >>/tmp/cargo-calls' \
    'mkdir -p "$CARGO_TARGET_DIR/release"' \
    'cp /opt/containerlab-dist/containerlab "$CARGO_TARGET_DIR/release/containerlab"' \
    >"$ROOT/opt/rust/bin/cargo"
chmod 0755 "$ROOT/opt/rust/bin/rustc" "$ROOT/opt/rust/bin/cargo"
t=$(seconds)
say "provision.sh --source with an existing toolchain (a stand-in cargo)"
if in_root bash /opt/containerlab-dist/provision.sh --source /opt/containerlab-src \
        >"$WORK/provision-source.log" 2>&1; then
    say "TIMING provision (from source, stand-in cargo): $(elapsed "$t")"
else
    say "FAILED: provision.sh --source"
    fail=1
fi
sed 's/^/  | /' "$WORK/provision-source.log"
# shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
check "the build tools were installed for a source build" \
    test "$(in_root dpkg-query -W -f='${Status}' build-essential 2>/dev/null)" == "install ok installed"
check "the toolchain in /opt/rust was found and its version accepted" \
    grep -q 'using /opt/rust/bin/cargo (rustc 1.91.0)' "$WORK/provision-source.log"
check "cargo built a locked release in the source tree, into the kept target dir" \
    grep -qF 'cwd=/opt/containerlab-src target=/var/cache/containerlab-build/target rustup_home=/opt/rust args=build --release --locked --bin containerlab' \
    "$ROOT/tmp/cargo-calls"
check "the built binary is the one on PATH" \
    cmp -s "$ROOT/var/cache/containerlab-build/target/release/containerlab" "$ROOT/usr/local/bin/containerlab"

if [[ $fail != 0 ]]; then
    say "logs in $WORK (kept)"
    KEEP=1
    OWN_WORK=0
    exit 1
fi
echo "PROVISION-TEST: PASS"
