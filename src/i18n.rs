//! The lab's own words (not the lessons'), in every language the lab speaks. Each entry has a
//! field per language, so a missing translation does not compile.

/// One message in each language.
pub struct Msg {
    pub en: &'static str,
    pub ja: &'static str,
}

impl Msg {
    pub fn get(&self, lang: &str) -> &'static str {
        match lang {
            "ja" => self.ja,
            _ => self.en,
        }
    }
}

macro_rules! messages {
    ($($name:ident = $en:literal, $ja:literal;)*) => {
        $(pub const $name: $crate::i18n::Msg = $crate::i18n::Msg { en: $en, ja: $ja };)*
    };
}
pub(crate) use messages;

messages! {
    CANNOT_RUN = "cannot run lesson {} on this machine:", "このマシンではレッスン {} を実行できません:";
    OBSERVED = "observed", "観測値";
    EXPECTED = "expected", "期待値";
    WHY = "why", "理由";
    FAILED = "failed", "失敗";
    PROGRAM_SAID = "what it printed:", "プログラムの出力:";
    EXPECTED_FAILURE = "this failure is the point", "この失敗がこのステップの要点です";
    SUCCEEDED_UNEXPECTEDLY = "expected this to fail with {}, but it succeeded",
        "{} で失敗するはずでしたが、成功しました";
    EXERCISE = "Exercise", "演習";
    HINT = "hint", "ヒント";
    SOLUTION = "solution", "解答";
    BEFORE_SOLUTION = "before the solution", "解答の前";
    NOT_YET = "not yet", "まだ";
    ALREADY_TRUE = "already true", "すでに成立";
    SUMMARY = "{} checks passed, {} failed", "チェック {} 件成功、{} 件失敗";
    TEARDOWN = "teardown: {} objects removed", "後片付け: {} 個のオブジェクトを削除";
    TEARDOWN_FAILED = "teardown failed", "後片付けに失敗";
}

/// Fills `{}` placeholders in order.
pub fn fill(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::new();
    let mut rest = template;
    for a in args {
        match rest.split_once("{}") {
            Some((head, tail)) => {
                out.push_str(head);
                out.push_str(&a.to_string());
                rest = tail;
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_order_and_picks_the_language() {
        assert_eq!(
            fill(SUMMARY.get("en"), &[&3, &0]),
            "3 checks passed, 0 failed"
        );
        assert_eq!(
            fill(SUMMARY.get("ja"), &[&3, &0]),
            "チェック 3 件成功、0 件失敗"
        );
        assert_eq!(SUMMARY.get("fr"), SUMMARY.en);
    }
}
