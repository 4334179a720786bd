#!/usr/bin/env bash
# provision.sh: make a Debian 12 machine ready for the containerlab lessons.
#
# Used by vagrant/Vagrantfile and vagrant/lima.yaml, and runnable by hand on any Debian 12 or
# Ubuntu 24.04 machine (VM, laptop, chroot), on amd64 or arm64. Safe to run again: every step
# checks what is there first.
#
# It installs the tools the lessons use, puts containerlab on PATH (/usr/local/bin), builds the
# caches the lessons would otherwise build on first use (`containerlab prepare`), and greets the
# learner at login with how to start.
#
# Where containerlab comes from, first match wins:
#   1. --binary PATH (or CONTAINERLAB_BINARY=PATH): an already-built binary for this machine's
#      architecture; nothing is compiled and no build tools are installed. For classrooms with
#      slow or no internet, and for tests.
#   2. --source DIR (or CONTAINERLAB_SOURCE=DIR, default: the directory above this script if it
#      holds Cargo.toml): built with `cargo build --release --locked`, using
#        a. a cargo already on PATH, in $CARGO_HOME/bin, ~/.cargo/bin or /opt/rust/bin, if its
#           rustc is new enough (the `rust-version` of the source's Cargo.toml);
#        b. else Debian's rustc/cargo packages, if the distribution's are new enough (neither
#           Debian 12's 1.63 nor Debian 13's 1.85 is);
#        c. else rustup, into /opt/rust (needs https to static.rust-lang.org).
#
# Options (each also an environment variable):
#   --binary PATH        CONTAINERLAB_BINARY   install this binary instead of building
#   --source DIR         CONTAINERLAB_SOURCE   the containerlab source tree to build
#   --user NAME          CONTAINERLAB_USER     the learner's account (default: vagrant or the
#                                              user who ran sudo, if any); only for the greeting
#   --no-apt-update      CONTAINERLAB_APT_UPDATE=0   do not run apt-get update
#   -h, --help
#
# Exit status: 0 ready; 1 a step failed (the message says which); 2 wrong usage.
set -euo pipefail

# The oldest rustc that builds the locked dependencies: read from the source's Cargo.toml
# (build_from_source), where tests/msrv.rs keeps it true.
MIN_RUST=
PREFIX=/usr/local
CACHE_DIR=/var/cache/containerlab
BUILD_DIR=/var/cache/containerlab-build
RUST_HOME=/opt/rust

# Runtime: what the lessons call or probe for. busybox-static: the chroot/image rootfs;
# iputils-ping + iproute2: the network lessons; libcap2-bin: capsh/getcap in the capabilities
# lesson; util-linux: unshare/nsenter/lsns to compare with; procps: ps; kmod: modprobe veth;
# nftables: `nft`, which the bridge lesson loads its NAT rules with.
RUNTIME_PACKAGES=(busybox-static iputils-ping iproute2 libcap2-bin util-linux procps kmod nftables)
# Only to build containerlab from source.
BUILD_PACKAGES=(build-essential pkg-config ca-certificates curl)

BINARY=${CONTAINERLAB_BINARY:-}
SOURCE=${CONTAINERLAB_SOURCE:-}
LEARNER=${CONTAINERLAB_USER:-}
APT_UPDATE=${CONTAINERLAB_APT_UPDATE:-1}

say() { printf 'provision: %s\n' "$*"; }
die() { printf 'provision: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --binary) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; BINARY=$2; shift 2 ;;
        --source) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; SOURCE=$2; shift 2 ;;
        --user) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; LEARNER=$2; shift 2 ;;
        --no-apt-update) APT_UPDATE=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'provision: unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
[[ -r /etc/os-release ]] || die "no /etc/os-release: this script is for Debian 12 / Ubuntu 24.04"
command -v apt-get >/dev/null || die "no apt-get: this script is for Debian 12 / Ubuntu 24.04"

ARCH=$(dpkg --print-architecture)
OS=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')
say "machine: ${OS:-unknown}, $ARCH, kernel $(uname -r)"

export DEBIAN_FRONTEND=noninteractive

# apt-get update unless the lists are fresh (younger than 6 hours) or it was turned off.
apt_update() {
    [[ $APT_UPDATE == 0 ]] && return 0
    local stamp=/var/lib/apt/periodic/containerlab-update-stamp
    if [[ -e $stamp ]] && [[ -n $(find "$stamp" -mmin -360 2>/dev/null) ]]; then
        return 0
    fi
    say "apt-get update"
    apt-get update -qq
    mkdir -p "$(dirname "$stamp")"
    touch "$stamp"
}

# Installs the packages that are not installed yet (so a second run does not touch apt).
apt_install() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$p")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "packages already installed: $*"
        return 0
    fi
    apt_update
    say "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# True if version $1 >= version $2 (dotted numbers).
version_at_least() {
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

# Writes $2 to file $1 only if it differs (mode $3), so re-runs change nothing.
write_file() {
    local path=$1 content=$2 mode=$3
    if [[ -f $path ]] && [[ $(cat "$path") == "$content" ]]; then
        chmod "$mode" "$path"
        return 0
    fi
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" >"$path.tmp.$$"
    chmod "$mode" "$path.tmp.$$"
    mv -f "$path.tmp.$$" "$path"
    say "wrote $path"
}

# Installs binary $1 as $PREFIX/bin/containerlab unless the same file is already there.
install_binary() {
    local from=$1 to=$PREFIX/bin/containerlab
    [[ -f $from ]] || die "$from: no such file"
    [[ -x $from ]] || die "$from is not executable"
    if ! "$from" --version >/dev/null 2>&1; then
        die "$from does not run here (built for another architecture than $ARCH, or another libc?)"
    fi
    if [[ -f $to ]] && cmp -s "$from" "$to"; then
        say "$to is already this binary ($("$to" --version))"
        return 0
    fi
    install -D -m 0755 "$from" "$to.new"
    mv -f "$to.new" "$to"
    say "installed $to ($("$to" --version))"
}

rustc_version() { # prints the version of the rustc next to cargo $1, or nothing
    local dir
    dir=$(dirname "$1")
    { "$dir/rustc" --version 2>/dev/null || true; } | awk '{print $2}' | sed 's/-.*//'
}

# Prints the path of a cargo whose rustc is at least MIN_RUST, installing one if needed.
find_or_install_cargo() {
    local c v
    for c in "$(command -v cargo || true)" "${CARGO_HOME:-/nonexistent}/bin/cargo" \
             "${HOME:-/root}/.cargo/bin/cargo" "$RUST_HOME/bin/cargo"; do
        [[ -n $c && -x $c ]] || continue
        if [[ $c == "$RUST_HOME"/* ]]; then export RUSTUP_HOME=$RUST_HOME; fi
        v=$(rustc_version "$c")
        if [[ -n $v ]] && version_at_least "$v" "$MIN_RUST"; then
            say "using $c (rustc $v)" >&2
            echo "$c"
            return 0
        fi
        say "$c has rustc ${v:-?}, older than $MIN_RUST: not used" >&2
    done
    apt_update >&2
    v=$(apt-cache policy rustc 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -e 's/^[0-9]*://' -e 's/[+~-].*//')
    if [[ -n $v && $v != "(none)" ]] && version_at_least "$v" "$MIN_RUST"; then
        say "installing the distribution's Rust $v" >&2
        apt_install rustc cargo >&2
        command -v cargo
        return 0
    fi
    say "the distribution's Rust (${v:-none}) is older than $MIN_RUST; installing rustup into $RUST_HOME" >&2
    export RUSTUP_HOME=$RUST_HOME CARGO_HOME=$RUST_HOME
    local script
    script=$(mktemp)
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs -o "$script" \
        || die "cannot download rustup (no internet?): give a built binary with --binary PATH (see the top of this script)"
    sh "$script" -y --no-modify-path --profile minimal --default-toolchain stable >&2
    rm -f "$script"
    echo "$RUST_HOME/bin/cargo"
}

build_from_source() {
    local src=$1 cargo
    [[ -f $src/Cargo.toml ]] || die "$src has no Cargo.toml: give --source DIR (the containerlab checkout) or --binary PATH"
    MIN_RUST=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$src/Cargo.toml" | head -n1)
    [[ -n $MIN_RUST ]] || die "$src/Cargo.toml declares no rust-version"
    apt_install "${BUILD_PACKAGES[@]}"
    cargo=$(find_or_install_cargo)
    say "building containerlab from $src (release; the first build takes a few minutes)"
    mkdir -p "$BUILD_DIR"
    # The target directory lives outside the (possibly read-only, possibly shared) source tree,
    # and is kept, so a re-provision only rebuilds what changed.
    if [[ $cargo == "$RUST_HOME"/* ]]; then
        # rustup's proxies in $RUST_HOME/bin find their toolchains through these.
        export RUSTUP_HOME=$RUST_HOME CARGO_HOME=$RUST_HOME
    fi
    (cd "$src" && CARGO_TARGET_DIR=$BUILD_DIR/target "$cargo" build --release --locked --bin containerlab)
    install_binary "$BUILD_DIR/target/release/containerlab"
}

# 1. What the lessons need at run time.
apt_install "${RUNTIME_PACKAGES[@]}"

# 2. containerlab itself.
if [[ -n $BINARY ]]; then
    install_binary "$BINARY"
else
    if [[ -z $SOURCE ]]; then
        SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    fi
    build_from_source "$SOURCE"
fi
CONTAINERLAB=$PREFIX/bin/containerlab

# Shell completions and the man page, generated by the binary from its own command line.
write_file /usr/share/bash-completion/completions/containerlab "$("$CONTAINERLAB" completions bash)" 0644
write_file /usr/local/share/zsh/site-functions/_containerlab "$("$CONTAINERLAB" completions zsh)" 0644
write_file /usr/share/fish/vendor_completions.d/containerlab.fish "$("$CONTAINERLAB" completions fish)" 0644
write_file $PREFIX/share/man/man1/containerlab.1 "$("$CONTAINERLAB" manpage)" 0644

# 3. Caches the lessons would otherwise build on first use.
say "containerlab prepare"
CONTAINERLAB_CACHE_DIR=$CACHE_DIR "$CONTAINERLAB" prepare

# 4. The greeting at login: a profile.d script, so it shows in `vagrant ssh`, `limactl shell`
# and a console login alike (interactive shells only: `vagrant ssh -c CMD` stays quiet).
if [[ -z $LEARNER ]]; then
    if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
        LEARNER=$SUDO_USER
    elif id vagrant >/dev/null 2>&1; then
        LEARNER=vagrant
    fi
fi
write_file /etc/profile.d/containerlab.sh "$(cat <<'EOF'
# containerlab: the greeting at login (written by vagrant/provision.sh).
case $- in
    *i*)
        if [ -z "${CONTAINERLAB_GREETED:-}" ] && [ -x /usr/local/bin/containerlab ]; then
            export CONTAINERLAB_GREETED=1
            cat <<'TEXT'

  Welcome to containerlab: Linux container internals, one real syscall at a time.

    sudo containerlab list                         the lessons
    sudo containerlab run lesson uts --headless    play the first one
    sudo containerlab doctor                       what this machine offers the lessons
    sudo containerlab progress --export -o me.json your progress, for the instructor

  The lessons need root (they unshare namespaces and mount things); everything they
  make is removed again. If a run was killed: sudo containerlab cleanup

TEXT
        fi
        ;;
esac
EOF
)" 0644

if [[ -n $LEARNER ]]; then
    say "learner account: $LEARNER (log in and the greeting says how to start)"
fi

say "checking the machine (containerlab doctor):"
# doctor exits 3 when a feature some lesson needs is missing; that is reported, not fatal.
"$CONTAINERLAB" doctor || say "doctor reports missing features above: the lessons that need them will say so"
say "ready: run \`sudo containerlab list\`"
