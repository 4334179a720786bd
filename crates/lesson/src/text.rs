//! Text in several languages: every learner-facing string in a lesson is a map from language code
//! to text, so a room can read English or Japanese from the same file. A plain string is English
//! (`title: Odd` means `title: {en: Odd}`), so a first lesson needs no map at all.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The languages the lab ships text for. English is required; others fall back to it.
pub const LANGUAGES: [&str; 2] = ["en", "ja"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    // serde puts this after "invalid type: ..., expected": it is what an author reads.
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "text: a plain string (English), e.g. `title: Hello`, or one per language, \
             e.g. `title: {en: Hello, ja: こんにちは}`",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text::en(v))
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Text, M::Error> {
        let mut out = BTreeMap::new();
        while let Some((lang, text)) = map.next_entry::<String, TextValue>()? {
            out.insert(lang, text.0);
        }
        Ok(Text(out))
    }
}

/// One language's text: a string, with an author's error when it is not.
struct TextValue(String);

impl<'de> Deserialize<'de> for TextValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TextValue, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TextValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the text in this language as a string, e.g. `en: Hello`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TextValue, E> {
                Ok(TextValue(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}

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
    fn a_plain_string_is_english_and_a_map_is_per_language() {
        let plain: Text = serde_yaml::from_str("Plain").unwrap();
        assert_eq!(plain, Text::en("Plain"));
        let both: Text = serde_yaml::from_str("{en: Hi, ja: やあ}").unwrap();
        assert_eq!(both.get("ja"), "やあ");
        assert_eq!(both.get("en"), "Hi");
    }

    #[test]
    fn a_wrong_type_says_what_to_write_instead() {
        let err = serde_yaml::from_str::<Text>("[a, b]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("e.g. `title: Hello`"), "{err}");
        let err = serde_yaml::from_str::<Text>("{en: [a]}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("e.g. `en: Hello`"), "{err}");
    }

    #[test]
    fn locale_names_map_to_codes() {
        assert_eq!(pick_language(Some("ja_JP.UTF-8")), "ja");
        assert_eq!(pick_language(Some("C.UTF-8")), "en");
        assert_eq!(pick_language(Some("ja")), "ja");
    }
}
