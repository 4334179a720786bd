//! Kernel errors explained: an errno from a step, with its likely cause and what to do.
//!
//! The same errno means different things from different calls (EINVAL from `pivot_root` is not
//! EINVAL from `unshare`), so explanations are looked up by call and errno together.

use crate::i18n::Msg;

/// An explanation for `errno` returned by the syscall that `call` (a trace line's call text)
/// names, in every language the lab speaks, or None when there is nothing more to say than the
/// errno's own text.
pub fn explain(call: &str, errno: &str) -> Option<Msg> {
    // A call made by a child is traced as `[pid N] execve(...)` or `[child] write(...)`.
    let bare = match call.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map(|(_, c)| c).unwrap_or(call),
        None => call,
    };
    let name = bare.split('(').next().unwrap_or(bare).trim();
    let target = call;
    let (en, ja) = match (name, errno) {
        ("unshare", "EPERM") if target.contains("CLONE_NEWUSER") => (
            "The kernel refused a new user namespace. Either the limit is 0 \
             (user.max_user_namespaces), or unprivileged user namespaces are switched off: \
             kernel.unprivileged_userns_clone = 0 (Debian), or an LSM policy forbids it. Run \
             `containerlab doctor` to see which, and its fix.",
            "カーネルが新しいユーザー名前空間を拒否しました。上限が 0 \
             (user.max_user_namespaces)、非特権のユーザー名前空間が無効 \
             (Debian の kernel.unprivileged_userns_clone = 0)、または LSM のポリシーが禁止しています。\
             どれに当たるかと直し方は `containerlab doctor` で確認できます。",
        ),
        ("write", "EPERM") if target.contains("uid_map") && !target.contains("/proc/self") => (
            "uid_map/gid_map can be written once, by a process with CAP_SETUID/CAP_SETGID in the \
             parent user namespace; for gid_map without that, write \"deny\" to setgroups first.",
            "uid_map/gid_map に書けるのは一度だけで、親のユーザー名前空間で CAP_SETUID/CAP_SETGID \
             を持つプロセスだけです。その権限なしで gid_map を書くには、先に setgroups に \
             \"deny\" を書きます。",
        ),
        ("write", "EPERM") if target.contains("_map") || target.contains("setgroups") => (
            "A process writing its own map may map only its own uid (and, after writing \"deny\" \
             to setgroups, its own gid), and must have capabilities in the new namespace. On \
             Ubuntu 23.10+ AppArmor takes those away from unprivileged processes \
             (kernel.apparmor_restrict_unprivileged_userns = 1): see `containerlab doctor`.",
            "自分のマップを書くプロセスが対応付けられるのは自分の uid だけで(setgroups に \
             \"deny\" を書いた後なら自分の gid も)、新しい名前空間でケーパビリティを持っている必要が\
             あります。Ubuntu 23.10 以降は AppArmor が非特権プロセスからそれを取り上げます \
             (kernel.apparmor_restrict_unprivileged_userns = 1)。`containerlab doctor` を見てください。",
        ),
        ("openat", "EACCES") => (
            "The file's permissions do not let this process read it. Capabilities in a user \
             namespace only count for files whose owner is mapped into that namespace: the \
             host's root-owned files stay closed to a root that exists only inside.",
            "ファイルのパーミッションがこのプロセスの読み取りを許しません。ユーザー名前空間の中の\
             ケーパビリティが効くのは、所有者がその名前空間に対応付けられたファイルだけです。\
             ホストの root が所有するファイルは、中だけの root には閉じたままです。",
        ),
        ("shmget", "ENOENT") | ("mq_open", "ENOENT") => (
            "No IPC object with that key or name exists in this process's IPC namespace (each \
             IPC namespace has its own keys and queue names).",
            "このプロセスの IPC 名前空間には、そのキーや名前の IPC オブジェクトがありません \
             (IPC 名前空間ごとにキーとキュー名が別々です)。",
        ),
        ("shmget", "EEXIST") | ("mq_open", "EEXIST") => (
            "An IPC object with that key or name already exists in this IPC namespace; another \
             session may have left it: `containerlab cleanup`, or `ipcs` / `ipcrm`.",
            "この IPC 名前空間には、そのキーや名前の IPC オブジェクトがもうあります。別のセッションが\
             残したのかもしれません: `containerlab cleanup`、または `ipcs` / `ipcrm` で消せます。",
        ),
        ("bind", "EADDRINUSE") => (
            "Another program already listens on this address and port (`ss -ltnp` names it). \
             Publish on another port: `containerlab run lesson container --var host_port=18080`.",
            "別のプログラムがこのアドレスとポートですでに待ち受けています (`ss -ltnp` で分かります)。\
             別のポートで公開してください: \
             `containerlab run lesson container --var host_port=18080`。",
        ),
        ("bind", "EADDRNOTAVAIL") => (
            "No interface of this network namespace has that address; listen on 0.0.0.0 or on \
             one of the addresses `ip -br addr` shows.",
            "このネットワーク名前空間のどのインターフェースにもそのアドレスがありません。0.0.0.0 か、\
             `ip -br addr` に出るアドレスで待ち受けてください。",
        ),
        ("sendmsg", "EEXIST") => (
            "A link with that name (or that address) exists already: another session may have \
             left it behind; `containerlab cleanup` removes it.",
            "その名前(またはアドレス)のリンクがもうあります。別のセッションが残したのかもしれません。\
             `containerlab cleanup` で消せます。",
        ),
        ("unshare" | "setns" | "mount" | "umount2" | "sethostname" | "pivot_root" | "chroot", "EPERM") => (
            "This call needs CAP_SYS_ADMIN in the namespace that owns the resource. Run the lab as \
             root (sudo containerlab ...), or create a user namespace first and act inside it.",
            "この呼び出しには、その資源を所有する名前空間での CAP_SYS_ADMIN が要ります。root で\
             実行するか (sudo containerlab ...)、先にユーザー名前空間を作ってその中で行ってください。",
        ),
        ("unshare", "EINVAL") if target.contains("CLONE_NEWUSER") || target.contains("CLONE_NEWNS") => (
            "A multithreaded process may not unshare a user or mount namespace. The lab makes \
             these calls in its single-threaded helper; if you see this, report a bug.",
            "マルチスレッドのプロセスはユーザー名前空間やマウント名前空間を unshare できません。\
             このラボはこの呼び出しをシングルスレッドのヘルパーで行います。これが出たらバグとして\
             報告してください。",
        ),
        ("unshare", "EINVAL") => (
            "The kernel does not know one of the requested namespace kinds (is it built with CONFIG_*_NS?).",
            "要求した名前空間の種類の一つをカーネルが知りません (CONFIG_*_NS 付きでビルドされていますか?)。",
        ),
        ("unshare" | "clone", "ENOSPC") => (
            "The limit on namespaces of this kind is reached (/proc/sys/user/max_*_namespaces). \
             Raise it with sysctl, or end other sessions.",
            "この種類の名前空間の上限に達しました (/proc/sys/user/max_*_namespaces)。sysctl で上げるか、\
             ほかのセッションを終えてください。",
        ),
        ("fork" | "clone", "ENOMEM") => (
            "The PID namespace's init (PID 1) has exited: the kernel allows no new process in a \
             namespace whose init is gone.",
            "PID 名前空間の init (PID 1) が終了しています。init のいない名前空間には、カーネルは\
             新しいプロセスを作らせません。",
        ),
        ("write", "EINVAL") if target.contains("_map") => (
            "A map line is \"inside-id outside-id count\", and the ranges may not overlap.",
            "マップの行は \"中の ID 外の ID 個数\" で、範囲は重なってはいけません。",
        ),
        ("pivot_root", "EINVAL") => (
            "new_root must be a mount point, not on the same mount as the current root, and the \
             current root must not have shared propagation: bind-mount new_root onto itself and \
             make / private (mount --make-rprivate /) first.",
            "new_root はマウントポイントで、今のルートと同じマウント上にあってはならず、今のルートは\
             shared 伝播であってはいけません。先に new_root を自分自身に bind マウントし、/ を \
             private にしてください (mount --make-rprivate /)。",
        ),
        ("pivot_root", "EBUSY") => (
            "new_root or put_old is already the root or in use.",
            "new_root か put_old がすでにルートか、使用中です。",
        ),
        ("umount2", "EBUSY") => (
            "Something still uses the mount (an open file, a process's cwd, or a mount on top of \
             it). Leave it, or use a lazy unmount (umount -l, MNT_DETACH).",
            "何かがまだそのマウントを使っています (開いているファイル、プロセスの作業ディレクトリ、\
             上に重なったマウント)。そこから離れるか、遅延アンマウント (umount -l、MNT_DETACH) を\
             使ってください。",
        ),
        ("umount2", "EINVAL") => (
            "The path is not a mount point (in this mount namespace).",
            "そのパスは (このマウント名前空間では) マウントポイントではありません。",
        ),
        ("mount", "ENODEV") => (
            "The kernel does not have this filesystem type. Load its module (modprobe overlay) or \
             see `containerlab doctor`.",
            "カーネルにこのファイルシステムの種類がありません。モジュールを読み込むか \
             (modprobe overlay)、`containerlab doctor` を見てください。",
        ),
        ("mount", "EINVAL") if target.contains("\"overlay\"") => (
            "overlayfs refused its options: every lowerdir, upperdir and workdir must exist, \
             upperdir and workdir must be on the same filesystem and not inside each other, and \
             workdir must be empty (a fresh directory). dmesg names the option it disliked.",
            "overlayfs がオプションを拒否しました。lowerdir、upperdir、workdir はすべて存在し、\
             upperdir と workdir は同じファイルシステム上で互いの中にあってはならず、workdir は空\
             (新しいディレクトリ) でなければなりません。どのオプションが問題かは dmesg に出ます。",
        ),
        ("unlink", "ENOENT") => (
            "There is no such file (in this process's view: through its mounts).",
            "そのファイルはありません (このプロセスから、そのマウントを通して見た限り)。",
        ),
        ("unlink", "EROFS") => (
            "The file is on a read-only mount: overlayfs' lower layers are only ever changed through the upper one.",
            "ファイルが読み取り専用のマウント上にあります。overlayfs の下位レイヤは上位レイヤを通してしか変わりません。",
        ),
        ("mount", "ENOENT") => (
            "The mount point or source does not exist (in this process's view of the filesystem).",
            "マウントポイントかマウント元が (このプロセスから見たファイルシステムに) ありません。",
        ),
        ("execve", "ENOENT") => (
            "The program is not there: paths are looked up inside the process's root, so after \
             chroot the program (and, for a dynamic binary, its loader and libraries) must exist \
             inside the new root.",
            "プログラムがありません。パスはプロセスのルートの中で引かれるので、chroot の後は\
             プログラム (動的リンクならローダーとライブラリも) が新しいルートの中に必要です。",
        ),
        ("chroot" | "chdir", "ENOENT") => (
            "The directory does not exist (as this process sees paths: inside its current root).",
            "そのディレクトリはありません (このプロセスから見たパス、つまり今のルートの中で)。",
        ),
        ("prctl", "EPERM") if target.contains("CAPBSET_DROP") => (
            "Dropping from the bounding set needs CAP_SETPCAP in the caller's effective set.",
            "bounding セットから外すには、呼び出し元の effective セットに CAP_SETPCAP が要ります。",
        ),
        ("capset", "EPERM") => (
            "A process may only keep or drop capabilities: the new permitted set must be within \
             the old one, the effective within the new permitted, and the inheritable within \
             the bounding set.",
            "プロセスはケーパビリティを保つか手放すことしかできません。新しい permitted セットは古い permitted セットの\
             内側、effective セットは新しい permitted セットの内側、inheritable セットは bounding セットの内側で\
             なければなりません。",
        ),
        ("setxattr" | "removexattr", "EPERM") => (
            "Writing security.capability needs CAP_SETFCAP (and the file's owner or \
             CAP_FOWNER).",
            "security.capability を書くには CAP_SETFCAP (とファイルの所有者であるか CAP_FOWNER) が要ります。",
        ),
        ("setxattr", "EOPNOTSUPP") => (
            "This filesystem does not store security.* extended attributes.",
            "このファイルシステムは security.* 拡張属性を保存しません。",
        ),
        ("write", "ENOENT") if target.contains("cgroup") => (
            "This cgroup file does not exist: the controller is not enabled for this cgroup (v2: \
             its parent's cgroup.subtree_control), or this kernel does not have it.",
            "この cgroup ファイルはありません。この cgroup でコントローラが有効になっていないか \
             (v2 では親の cgroup.subtree_control)、このカーネルにそのコントローラがありません。",
        ),
        ("write", "EBUSY") if target.contains("cgroup") => (
            "cgroup v2's no-internal-processes rule: a cgroup that enables controllers for its \
             children cannot hold processes itself.",
            "cgroup v2 の「内部プロセスなし」規則です。子にコントローラを有効にした cgroup は、\
             自分ではプロセスを持てません。",
        ),
        ("kill", "ETIMEDOUT") => (
            "The program did not end within its time limit, so the lab killed it and everything \
             it started (its process group): a program that never ends would hang the lesson. A \
             lesson whose program is meant to run longer sets `timeout_secs` on the action.",
            "プログラムが制限時間内に終わらなかったので、ラボはそれと、それが起動したもの全部 \
             (プロセスグループ) を kill しました。終わらないプログラムはレッスンを止めてしまうからです。\
             もっと長く動かすプログラムなら、レッスンでそのアクションに `timeout_secs` を書きます。",
        ),
        _ => return None,
    };
    Some(Msg { en, ja })
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn every_explanation_speaks_japanese_too() {
        let e = explain("bind(3, 0.0.0.0:8080)", "EADDRINUSE").unwrap();
        assert!(e.get("ja").contains("ポート"), "{}", e.ja);
        assert!(e.get("ja").contains("--var host_port=18080"));
        assert_eq!(e.get("en"), e.en);
    }

    #[test]
    fn same_errno_different_calls_different_causes() {
        let a = explain("pivot_root(\".\", \"old\")", "EINVAL").unwrap().en;
        let b = explain("umount2(\"/x\", 0)", "EINVAL").unwrap().en;
        assert_ne!(a, b);
        assert!(a.contains("private"));
    }

    #[test]
    fn forbidden_user_namespaces_are_explained() {
        let e = explain("unshare(CLONE_NEWUSER)", "EPERM").unwrap().en;
        assert!(e.contains("unprivileged_userns_clone"), "{e}");
        let own = explain(
            "write(open(\"/proc/self/uid_map\"), \"0 1000 1\", 8)",
            "EPERM",
        )
        .unwrap()
        .en;
        assert!(own.contains("apparmor"), "{own}");
        assert!(explain("openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY)", "EACCES").is_some());
    }

    #[test]
    fn a_childs_call_is_explained_by_its_name() {
        let e = explain("[pid 42] execve(\"/bin/sh\", [\"/bin/sh\"])", "ENOENT")
            .unwrap()
            .en;
        assert!(e.contains("chroot"));
        assert!(explain(
            "[child] write(open(\"/sys/fs/cgroup/x/cgroup.procs\"), getpid())",
            "EBUSY"
        )
        .is_some());
    }

    #[test]
    fn uid_map_eperm_mentions_setgroups() {
        let e = explain("write(open(\"/proc/9/gid_map\"), \"0 0 1\", 5)", "EPERM")
            .unwrap()
            .en;
        assert!(e.contains("setgroups"));
        assert!(explain("sethostname(\"x\", 1)", "EFAULT").is_none());
    }

    #[test]
    fn overlay_einval_names_the_options() {
        let e = explain(
            "mount(\"overlay\", \"/m\", \"overlay\", 0, \"lowerdir=/l\")",
            "EINVAL",
        )
        .unwrap()
        .en;
        assert!(e.contains("workdir"));
    }
}
