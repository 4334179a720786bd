//! The views' own words (headings, notes, "nothing yet" lines) in every language the lab
//! speaks. What the kernel says (inodes, flags, mount options, ip output) stays as it is.

use crate::i18n::{fill, Msg};

crate::i18n::messages! {
    MADE_BY_LESSON = "  * = made by this lesson", "  * = このレッスンが作ったもの";
    DIFFERS_FROM_HOST = "  * = differs from the host", "  * = ホストと異なる";
    HOST_PID = "── {} (host pid {}) ──", "── {} (ホストの PID {}) ──";
    CHILD = "└ (child)", "└ (子)";
    MOUNT_NS = "── {}: mount namespace {}, / is {} ──", "── {}: マウント名前空間 {}、/ は {} ──";
    ROOT_NOT_MOUNTED = "not a mount (chroot)", "マウントではない (chroot)";
    SAME_MOUNTS = "  (same mounts as the host)", "  (ホストと同じマウント)";
    SHARES_HOST_MOUNTS = "every lab process shares the host's mount namespace; / is {}",
        "ラボのどのプロセスもホストのマウント名前空間を共有している。/ は {}";
    NET_NS = "── {} (pid {}): network namespace {} ──", "── {} (PID {}): ネットワーク名前空間 {} ──";
    OTHER_LINK = "  (+ 1 other interface of the host)", "  (ほかにホストのインターフェースが 1 個)";
    OTHER_LINKS = "  (+ {} other interfaces of the host)", "  (ほかにホストのインターフェースが {} 個)";
    NO_ROUTES = "  (no routes)", "  (経路なし)";
    OTHER_ROUTE = "  (+ 1 other route of the host)", "  (ほかにホストの経路が 1 本)";
    OTHER_ROUTES = "  (+ {} other routes of the host)", "  (ほかにホストの経路が {} 本)";
    SOCKETS_UNREADABLE = "  (listening sockets: {})", "  (待ち受けソケット: {})";
    OTHER_SOCKET = "  (+ 1 other listening socket of the host)",
        "  (ほかにホストの待ち受けソケットが 1 個)";
    OTHER_SOCKETS = "  (+ {} other listening sockets of the host)",
        "  (ほかにホストの待ち受けソケットが {} 個)";
    NO_CAPS = "(none)", "(なし)";
    CAPS_COUNT = "({})", "({} 個)";
    ALL_CAPS = "all the kernel has", "カーネルにあるものすべて";
    ALL_CAPS_BUT = "all the kernel has but {}", "{} 以外のカーネルにあるものすべて";
    NO_CGROUP = "(no cgroup made by this lesson yet)", "(このレッスンが作った cgroup はまだない)";
    NOT_SET = "(not set)", "(未設定)";
    NO_IMAGE = "(no image built yet)", "(イメージはまだビルドされていない)";
    EMPTY_LAYER = "  (empty_layer: no layer)", "  (empty_layer: レイヤなし)";
    NO_LAYERS = "(no layers unpacked yet)", "(レイヤはまだ展開されていない)";
    LEAVES_IN_ALL = "  {} ({} files and empty dirs in all)", "  {} (ファイルと空ディレクトリが全部で {} 個)";
    UPPER = "── {}'s upper layer: {} ──", "── {} の upper レイヤ: {} ──";
    UPPER_EMPTY = "  (empty: nothing written yet)", "  (空: まだ何も書かれていない)";
    WHITEOUT = "(whiteout: deleted below)", "(ホワイトアウト: 下のレイヤで削除済み)";
    BYTES = "({} bytes)", "({} バイト)";
    COPIED_UP = ", copied up from {}", "、{} からコピーアップ";
    NEW_FILE = ", new", "、新規";
    IN_WORK = "in {}:", "{} の中:";
}

/// "(+ 1 other route of the host)" or "(+ 3 other routes ...)": the host's things a view counts
/// instead of listing.
pub fn count_of_others(one: &Msg, many: &Msg, n: usize, lang: &str) -> String {
    if n == 1 {
        one.get(lang).to_string()
    } else {
        fill(many.get(lang), &[&n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_other_is_said_in_the_singular() {
        assert_eq!(
            count_of_others(&OTHER_ROUTE, &OTHER_ROUTES, 1, "en"),
            "  (+ 1 other route of the host)"
        );
        assert_eq!(
            count_of_others(&OTHER_LINK, &OTHER_LINKS, 2, "en"),
            "  (+ 2 other interfaces of the host)"
        );
        assert_eq!(
            count_of_others(&OTHER_SOCKET, &OTHER_SOCKETS, 3, "ja"),
            "  (ほかにホストの待ち受けソケットが 3 個)"
        );
    }
}
