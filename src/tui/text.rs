//! The terminal UI's own words in every language the lab speaks (the lessons bring their own).
//! Same [`Msg`](crate::i18n::Msg) table as the headless output: a missing translation does not
//! compile. Key names (Enter, Tab, q, …) stay as they are in every language.

use crate::i18n::{fill, messages, Msg};
use crate::lesson::schema::View;

messages! {
    // Picker. The key lines in the footer fit 80 columns (each wide character takes two).
    PICKER_HEADER = " containerlab · learn how Linux containers work by making the real syscalls",
        " containerlab · 本物のシステムコールで Linux コンテナの仕組みを学ぶ";
    PICKER_KEYS = "↑↓ Enter open · / filter · ^R reset · ^A reset all · ? keys · q quit",
        "↑↓ Enter 開く · / 絞り込み · ^R 消去 · ^A 全消去 · ? キー · q 終了";
    FILTERING_KEYS = "type to filter · Enter open · ↑↓ choose · Esc clear",
        "文字で絞り込み · Enter 開く · ↑↓ 選ぶ · Esc 消去";
    FILTER = "Filter", "絞り込み";
    TYPE_TO_FILTER = "(/ to filter)", "(/ で絞り込み)";
    COL_LESSON = "LESSON", "レッスン";
    COL_TITLE = "TITLE", "タイトル";
    COL_STEPS = "STEPS", "ステップ数";
    COL_PROGRESS = "PROGRESS", "進み具合";
    NO_MATCH = " no lesson matches the filter (Backspace to edit)",
        " 絞り込みに合うレッスンはありません (Backspace で編集)";
    LESSONS = "Lessons", "レッスン";
    LESSONS_SHOWN = "{}–{} of {} · ↑↓ for more", "{}–{} 件目 / 全 {} 件 · ↑↓ で残り";
    TOO_SMALL = "containerlab needs a terminal of at least {}x{} (80x24 is best); this one is {}x{}. Enlarge it; Ctrl-C quits.",
        "containerlab には {}x{} 以上の端末が必要です (80x24 が最適)。この端末は {}x{} です。広げてください。Ctrl-C で終了します。";
    INTRO_GOES_ON = " … more when you open it ", " … 続きはレッスンの中で ";
    NOT_STARTED = "not started", "未着手";
    IN_PROGRESS = "in progress, next: step {}/{}", "進行中、次はステップ {}/{}";
    DONE = "done ✓", "完了 ✓";
    // Confirmations.
    CONFIRM_RESET_LESSON = "Forget your progress in lesson {}?", "レッスン {} の進み具合を消しますか?";
    CONFIRM_RESET_ALL = "Forget your progress in ALL lessons?", "すべてのレッスンの進み具合を消しますか?";
    RESET_TITLE = "Reset progress", "進み具合のリセット";
    CONFIRM_KEYS = "y yes · any other key: no", "y はい · ほかのキー: いいえ";
    // Lesson screen: header, footer, panes.
    LESSON_KEYS_EXERCISE = "Enter run · ← back · s shell · c check · h hint · S solution · ? keys · q list",
        "Enter 実行 · ← 戻る · s シェル · c 確認 · h ヒント · S 解答 · ? キー · q 一覧";
    LESSON_KEYS = "Enter run · ← back · g goto · r restart · s shell · Tab view · ? keys · q list",
        "Enter 実行 · ← 戻る · g 移動 · r 再実行 · s シェル · Tab 表示 · ? キー · q 一覧";
    SHELL_FOCUS_KEYS = "keys go to the shell · Ctrl-G back to the lesson · exit closes it",
        "キーはシェルへ · Ctrl-G でレッスンに戻る · exit で閉じる";
    SHELL_OPEN_KEYS = "Enter run · Ctrl-G shell · Z full shell · v view/shell · c check · h hint · q list",
        "Enter 実行 · Ctrl-G シェル · Z 全画面 · v 表示切替 · c 確認 · h ヒント · q 一覧";
    SHELL_TITLE = "shell in {}", "{} の中のシェル";
    SHELL_TITLE_FOCUS = "Ctrl-G: back to the lesson", "Ctrl-G: レッスンに戻る";
    SHELL_TITLE_UNFOCUSED = "Ctrl-G: type here", "Ctrl-G: ここに入力";
    SHELL_CLOSED = "the shell closed; the step was checked again", "シェルを閉じました。ステップをもう一度チェックしました";
    NO_SHELL_YET = "no shell is open: s opens one", "シェルは開いていません: s で開きます";
    SOLVED = "✓ solved! {}", "✓ 解けました! {}";
    SOLVED_NEXT = "Ctrl-G, then Enter: next step", "Ctrl-G のあと Enter で次のステップへ";
    SOLVED_LAST = "that was the last step", "これが最後のステップでした";
    STEP_OF = "step {}/{}", "ステップ {}/{}";
    STEP_PASSED = "step passed ✓", "ステップ成功 ✓";
    YOUR_TURN = "your turn", "あなたの番";
    STEP_FAILURES = "step has failures ✗", "ステップに失敗あり ✗";
    NOT_RUN_YET = "not run yet", "未実行";
    MORE_BELOW = " ↓ more (j/PgDn) ", " ↓ 続き (j/PgDn) ";
    MORE_RESULTS_CHECKS = " ↓ more: results and {} checks (j/PgDn) ",
        " ↓ 続き: 結果とチェック {} 件 (j/PgDn) ";
    MORE_RESULTS_CHECK = " ↓ more: results and 1 check (j/PgDn) ",
        " ↓ 続き: 結果とチェック 1 件 (j/PgDn) ";
    MORE_RESULTS = " ↓ more: results (j/PgDn) ", " ↓ 続き: 結果 (j/PgDn) ";
    MORE_CHECKS = " ↓ more: {} checks (j/PgDn) ", " ↓ 続き: チェック {} 件 (j/PgDn) ";
    MORE_CHECK = " ↓ more: 1 check (j/PgDn) ", " ↓ 続き: チェック 1 件 (j/PgDn) ";
    STEP_PANE = "Step", "ステップ";
    NOTHING_TO_SHOW = "(nothing to show)", "(表示するものはありません)";
    NO_SANDBOX_YET = "(no sandbox yet)", "(サンドボックスはまだありません)";
    SAMPLING = "sampling…", "取得中…";
    LIVE_SWITCH = " live · Tab/1-9/0 switch · z zoom ", " ライブ · Tab/1-9/0 切り替え · z 拡大 ";
    LIVE_MORE_ROWS = " live · + {} more rows, z to zoom · Tab/1-9/0 switch ",
        " ライブ · ほかに {} 行 (z で拡大) · Tab/1-9/0 切り替え ";
    ZOOMED_KEYS = " live · ↑↓←→ scroll · Tab switch · z/Esc back ",
        " ライブ · ↑↓←→ スクロール · Tab 切り替え · z/Esc 戻る ";
    ZOOMED_FROM_COLUMN = " live · from column {} · Home: back to the start ",
        " ライブ · {} 桁目から表示 · Home で先頭へ ";
    ZOOMED_FOOTER = "zoomed: ↑↓ PgUp PgDn ←→ scroll · Home start · Tab view · z/Esc back · q list",
        "拡大中: ↑↓ PgUp PgDn ←→ スクロール · Home 先頭 · Tab 表示 · z/Esc 戻る · q 一覧";
    // Help (`?`).
    KEYS_TITLE = "Keys", "キー";
    HELP_CLOSE = "any key closes this help", "何かキーを押すとこのヘルプを閉じます";
    H_PICKER = "Lesson list", "レッスン一覧";
    H_CHOOSE = "choose a lesson", "レッスンを選ぶ";
    H_OPEN = "open it", "開く";
    H_FILTER = "filter by id or title (Backspace edits, Esc clears)",
        "ID かタイトルで絞り込み (Backspace 編集, Esc 消去)";
    H_RESET_ONE = "reset the chosen lesson's progress (asks first)", "選んだレッスンの進み具合をリセット (確認あり)";
    H_RESET_ALL = "reset all progress (asks first)", "すべての進み具合をリセット (確認あり)";
    H_QUIT_EMPTY = "quit (with an empty filter)", "終了 (絞り込みが空のとき)";
    H_LESSON = "Lesson", "レッスン";
    H_RUN = "run the step; once it ran, go to the next", "ステップを実行、実行済みなら次へ";
    H_BACK = "back one step (replays from a clean sandbox)", "1 つ戻る (新しいサンドボックスで再実行)";
    H_GOTO = "the list of steps: a number or ↑↓, then Enter", "ステップ一覧: 番号か ↑↓ のあと Enter";
    H_RESTART = "restart the lesson from a clean sandbox", "新しいサンドボックスで最初から";
    H_SCROLL = "scroll the text (or the mouse wheel)", "本文をスクロール (マウスホイールも可)";
    H_VIEW = "switch the view (a digit: one view all lesson long)",
        "ビューを切り替え (数字はレッスン中ずっと同じビュー)";
    H_ZOOM = "zoom the view; arrows scroll it (z/Esc: back)", "ビューを拡大、矢印でスクロール (z/Esc で戻る)";
    H_SHELL = "a shell beside the lesson (exit closes it)", "レッスンの横にシェル (exit で閉じる)";
    H_SHELL_FOCUS = "the keys to the shell, and back", "キーをシェルへ、またレッスンへ";
    H_SHELL_ZOOM = "the shell full screen; v: shell or view (narrow)",
        "シェルを全画面に。v: シェルかビューか (狭い画面)";
    H_TARGET = "choose which process the shell enters", "シェルが入るプロセスを選ぶ";
    H_CHECK = "check again (after using the shell)", "もう一度チェック (シェルを使った後に)";
    H_HINT = "next hint (exercises)", "次のヒント (演習)";
    H_SOLUTION = "show the solution; again: run it for you", "解答を表示、もう一度押すと代わりに実行";
    H_LEAVE = "leave the lesson (everything is torn down)", "レッスンを出る (すべて後片付けされる)";
    H_ANYWHERE = "Anywhere", "どこでも";
    H_THIS_HELP = "this help", "このヘルプ";
    H_QUIT = "quit", "終了";
    // Go to step (`g`).
    GOTO_TITLE = "Go to step", "ステップへ移動";
    GOTO_PROMPT = "Step number (1-{}): ", "ステップ番号 (1-{}): ";
    GOTO_KEYS = "number or ↑↓, Enter go (replays from a clean sandbox) · Esc cancel",
        "番号か ↑↓、Enter で移動 (新しいサンドボックスで再実行) · Esc 中止";
    // Step pane.
    CANNOT_RUN_HERE = "This machine cannot run this lesson:", "このマシンではこのレッスンを実行できません:";
    ERROR = "error: {}", "エラー: {}";
    STEP_HEADING = "Step {}/{}: {}", "ステップ {}/{}: {}";
    YOUR_TURN_PREFIX = "Your turn: ", "あなたの番: ";
    HINT_N = "Hint {}: ", "ヒント {}: ";
    SOLUTION_PREFIX = "Solution: ", "解答: ";
    IN_PROCESS = "{} (in {})", "{} ({} で)";
    PRESS_S_AGAIN = "press S again to run it for you", "もう一度 S を押すと代わりに実行します";
    EXERCISE_KEYS = "s: shell inside {} · c: check again · h: hint ({} of {}) · S: solution",
        "s: {} の中でシェル · c: 再チェック · h: ヒント ({}/{}) · S: 解答";
    PRESS_ENTER = "Press Enter to run this step.", "Enter でこのステップを実行します。";
    SYSCALLS = "Syscalls", "システムコール";
    EXPECTED_ERROR = "  (expected) ", "  (想定どおり) ";
    SOLUTION_RAN = "Solution ran", "解答を実行しました";
    CHECKS_PASSED = "Checks: {}/{} passed", "チェック: {}/{} 件成功";
    CLAIM_OBSERVED = "{} (observed {})", "{} (観測値 {})";
    OBSERVED_EXPECTED = "observed {}, expected {}", "観測値 {}、期待値 {}";
    MORE_LINES = "… {} more lines", "… ほかに {} 行";
    EXERCISE_OPEN = "Your turn: s opens a shell beside the lesson; the checks run again as you work in it (c checks now). Enter skips ahead.",
        "あなたの番: s でレッスンの横にシェルが開きます。シェルで作業するたびにチェックをやり直します (c ですぐに確認)。Enter で先へ進みます。";
    BROKEN = "An action failed: later steps cannot run. r restarts the lesson.",
        "アクションが失敗したので、この先のステップは実行できません。r でレッスンをやり直します。";
    NEXT_STEP = "Enter: next step", "Enter: 次のステップへ";
    END_OF_LESSON = "End of the lesson. q goes back to the lessons.",
        "レッスンはここまでです。q でレッスン一覧に戻ります。";
    // Busy states and messages in the status line.
    STARTING = "starting the sandbox", "サンドボックスを起動中";
    GOING_TO_STEP = "going to step {}", "ステップ {} へ移動中";
    RUNNING_STEP = "running step {}", "ステップ {} を実行中";
    RESTARTING = "restarting the sandbox", "サンドボックスを再起動中";
    REPLAYING = "replaying step {} of {}", "ステップ {}/{} を再実行中";
    RUNNING_SOLUTION = "running the solution", "解答を実行中";
    CHECKING = "checking", "チェック中";
    TEARING_DOWN = "tearing down", "後片付け中";
    KEYS_QUEUED = "{} queued", "{} 件待機中";
    SOLUTION_FAILED = "the solution command failed", "解答のコマンドが失敗しました";
    PROGRESS_RESET = "progress of {} reset", "{} の進み具合をリセットしました";
    ALL_RESET = "all progress reset", "すべての進み具合をリセットしました";
    NOTHING_RESET = "nothing reset", "何もリセットしていません";
    LAST_STEP = "this was the last step: q goes back to the lessons",
        "これが最後のステップです: q でレッスン一覧に戻ります";
    NO_MORE_HINTS = "no more hints: S shows the solution", "ヒントはもうありません: S で解答を表示";
    NOT_EXERCISE = "this step is not an exercise", "このステップは演習ではありません";
    RUN_FIRST = "run the step first (Enter)", "先にステップを実行してください (Enter)";
    SHELL_IN = "s opens a shell in {}", "s で {} の中のシェルを開きます";
    NOTHING_TO_ENTER_YET = "no sandbox process to enter yet", "入れるサンドボックスのプロセスはまだありません";
    SESSION_DIED = "the session stopped unexpectedly (see {}); q leaves the lesson",
        "セッションが予期せず止まりました ({} を参照)。q でレッスンを出ます";
    CANNOT_SAVE = "cannot save progress: {}", "進み具合を保存できません: {}";
    PROGRESS_NOT_RECORDED = "progress not recorded: {} is unreadable (see containerlab.log); `containerlab reset --yes` moves it aside",
        "進み具合は記録されません: {} を読めません (containerlab.log を参照)。`containerlab reset --yes` で退避できます";
    EXITED_SHELL_IN_SANDBOX = "{} has exited; opening the shell in the sandbox instead",
        "{} は終了しているので、代わりにサンドボックスでシェルを開きます";
    EXITED_NOTHING = "{} has exited: nothing to enter", "{} は終了しています: 入る先がありません";
    RESUME_AT = "you stopped at step {}: g {} Enter goes there",
        "前回はステップ {} まで進みました: g {} Enter でそこへ移動します";
    CANNOT_OPEN_SHELL = "cannot open a shell: {}", "シェルを開けません: {}";
    // View names in the view bar.
    // Short: every view of a lesson is named in an 80-column tab row (the pane's title says
    // the rest). Most are the command or file a person would look at.
    V_NAMESPACES = "lsns", "lsns";
    V_NS_INODES = "ns inodes", "ns inode";
    V_STATUS = "status", "status";
    V_PROCESSES = "ps", "ps";
    V_MOUNTS = "mounts", "マウント";
    V_ID_MAPS = "idmap", "idmap";
    V_CAPS = "caps", "caps";
    V_CGROUPS = "cgpath", "cgpath";
    V_CGROUP = "cgroup", "cgroup";
    V_IMAGE = "image", "イメージ";
    V_LAYERS = "layers", "レイヤ";
    V_NET = "net", "ネット";
}

/// A view's short name in the view bar.
pub fn view_name(v: View) -> Msg {
    match v {
        View::Namespaces => V_NAMESPACES,
        View::NsInodes => V_NS_INODES,
        View::Status => V_STATUS,
        View::Processes => V_PROCESSES,
        View::Mounts => V_MOUNTS,
        View::IdMaps => V_ID_MAPS,
        View::Caps => V_CAPS,
        View::Cgroups => V_CGROUPS,
        View::Cgroup => V_CGROUP,
        View::Image => V_IMAGE,
        View::Layers => V_LAYERS,
        View::Net => V_NET,
    }
}

/// What the session is busy with, in words for the status line.
pub fn busy(what: crate::session::live::Busy, lang: &str) -> String {
    use crate::session::live::Busy;
    match what {
        Busy::Restarting => RESTARTING.get(lang).into(),
        Busy::RunningStep(step) => fill(RUNNING_STEP.get(lang), &[&(step + 1)]),
        Busy::Replaying { step, target } => fill(REPLAYING.get(lang), &[&(step + 1), &target]),
        Busy::RunningSolution => RUNNING_SOLUTION.get(lang).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::width::width;

    /// The footers name every key in full (no bare `q` cut off at the edge) and fit an 80-column
    /// terminal with the leading space, in every language.
    #[test]
    fn key_lines_fit_80_columns() {
        for keys in [
            PICKER_KEYS,
            LESSON_KEYS,
            LESSON_KEYS_EXERCISE,
            ZOOMED_FOOTER,
        ] {
            for lang in ["en", "ja"] {
                let line = keys.get(lang);
                assert!(width(line) < 80, "{} columns: {line}", width(line));
                let last = line.rsplit(" · ").next().unwrap();
                assert!(last.contains(' '), "the last key has no word: {line}");
            }
        }
    }
}
