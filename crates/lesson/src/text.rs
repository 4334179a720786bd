//! Text in several languages: every learner-facing string in a lesson is a map from language code
//! to text, so a room can read English or Japanese from the same file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The languages the lab ships text for. English is required; others fall back to it.
pub const LANGUAGES: [&str; 2] = ["en", "ja"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    pub fn en(s: &str) -> Text {
        Text(BTreeMap::from([("en".to_string(), s.to_string())]))
    }

    /// The text in `lang`, or in English when that language is missing.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get("en"))
            .map(|s| s.trim_end())
            .unwrap_or("")
    }

    pub fn has(&self, lang: &str) -> bool {
        self.0.get(lang).is_some_and(|s| !s.trim().is_empty())
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| k.as_str())
    }
}

/// Chooses the language: an explicit `--lang`, else LC_ALL, LC_MESSAGES or LANG (`ja_JP.UTF-8`
/// gives `ja`), else English.
pub fn pick_language(explicit: Option<&str>) -> String {
    let from_env = || {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
    };
    let wanted = explicit
        .map(str::to_string)
        .or_else(from_env)
        .unwrap_or_default();
    let code: String = wanted
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let code = code.to_lowercase();
    if LANGUAGES.contains(&code.as_str()) {
        code
    } else {
        "en".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_english() {
        let t = Text::en("hello");
        assert_eq!(t.get("ja"), "hello");
        assert!(!t.has("ja"));
    }

    #[test]
    fn locale_names_map_to_codes() {
        assert_eq!(pick_language(Some("ja_JP.UTF-8")), "ja");
        assert_eq!(pick_language(Some("C.UTF-8")), "en");
        assert_eq!(pick_language(Some("ja")), "ja");
    }
}
