//! Validated values that arrive from forms and the command line.
//!
//! Each `parse` returns a message written for the person who typed the value, so the web
//! layer can show it next to the field unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An e-mail address, trimmed and lower-cased so that sign-in is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Checks the shape of an address: one `@`, something either side, a dot in the domain,
    /// no spaces, at most 254 characters.
    ///
    /// # Errors
    /// A message for the person who typed it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an email address".into());
        }
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Email(s))
        } else {
            Err("Enter an email address in the correct format, like name@example.org".into())
        }
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short upper-case code for a Marac, agency or partnership, e.g. `NCM` or `POL-N`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Code(String);

impl Code {
    /// 2 to 16 characters of letters, digits and hyphens; stored upper-case.
    ///
    /// # Errors
    /// A message for the person who typed it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_uppercase();
        if s.is_empty() {
            return Err("Enter a code".into());
        }
        if s.len() < 2 || s.len() > 16 {
            return Err("Code must be between 2 and 16 characters".into());
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("Code must only include letters, numbers and hyphens".into());
        }
        Ok(Code(s))
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of text a field holds, and so how long it may be: one place for every limit, used
/// by the forms, the API, the history import and uploaded lists alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: a name, a reference, a telephone number.
    Line,
    /// An address.
    Address,
    /// Several lines: a summary, notes, what was shared.
    Multiline,
    /// One cell of an uploaded list or history file.
    ListCell,
}

impl TextKind {
    /// The most characters a field of this kind holds.
    #[must_use]
    pub const fn max(self) -> usize {
        match self {
            TextKind::Line | TextKind::ListCell => 200,
            TextKind::Address => 500,
            TextKind::Multiline => 20_000,
        }
    }
}

/// Characters that change how text around them is shown without being seen: bidirectional
/// embeddings, overrides and isolates (which can make "gpj.exe" read as "exe.jpg"), zero-width
/// spaces and joiners, marks and the byte-order mark.
#[must_use]
pub fn is_invisible_formatting(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks typed text of a kind: no control characters (a newline and a tab are allowed in
/// several lines), no invisible formatting characters, and no longer than the kind allows.
///
/// # Errors
/// A message for the person who typed it, to show beside the field.
pub fn check_text(value: &str, kind: TextKind) -> Result<(), String> {
    let multiline = kind == TextKind::Multiline;
    if value.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(if multiline {
            "Must not contain control characters (only new lines and tabs)".into()
        } else {
            "Must not contain control characters, new lines or tabs".into()
        });
    }
    if value.chars().any(is_invisible_formatting) {
        return Err(
            "Must not contain invisible formatting characters (such as right-to-left overrides or zero-width spaces)"
                .into(),
        );
    }
    let max = kind.max();
    if value.chars().count() > max {
        return Err(format!("Must be {} characters or fewer", thousands(max)));
    }
    Ok(())
}

/// 1234567 as "1,234,567".
#[must_use]
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A required name (of a person, agency, Marac or partnership), trimmed, 1 to 200 characters.
///
/// # Errors
/// A message for the person who typed it; `what` names the field ("a name", "the area").
pub fn required_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(format!("Enter {what}"));
    }
    check_text(s, TextKind::Line)?;
    if s.chars().count() > max {
        return Err(format!("Must be {max} characters or fewer"));
    }
    Ok(s.to_owned())
}

/// A whole number within a range, from a form field.
///
/// # Errors
/// A message for the person who typed it; `what` names the field.
pub fn number_in_range(raw: &str, what: &str, min: i64, max: i64) -> Result<i64, String> {
    let s = raw.trim().replace(',', "");
    if s.is_empty() {
        return Err(format!("Enter {what}"));
    }
    match s.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("Must be between {min} and {max}")),
        Err(_) => Err(format!("Enter {what} as a whole number, like {min}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_control_and_invisible_characters_and_runs_to_its_kinds_length() {
        for bad in ["Ann\0", "Ann\u{1b}[31m", "Ann\u{202E}gpj.exe", "An\u{200B}n", "\u{FEFF}Ann", "Ann\u{2066}"] {
            assert!(check_text(bad, TextKind::Line).is_err(), "{bad:?}");
            assert!(check_text(bad, TextKind::Multiline).is_err(), "{bad:?}");
        }
        assert!(check_text("two\nlines\tand a tab", TextKind::Multiline).is_ok());
        assert!(check_text("two\nlines", TextKind::Line).is_err());
        assert!(check_text("Zoë O'Brien-Łukasz 李", TextKind::Line).is_ok());
        assert!(check_text("مريم", TextKind::Line).is_ok(), "right-to-left script itself is fine");
        assert!(check_text(&"a".repeat(200), TextKind::Line).is_ok());
        assert_eq!(check_text(&"a".repeat(201), TextKind::Line).unwrap_err(), "Must be 200 characters or fewer");
        assert!(check_text(&"a".repeat(500), TextKind::Address).is_ok());
        assert!(check_text(&"a".repeat(501), TextKind::Address).is_err());
        assert_eq!(
            check_text(&"a".repeat(20_001), TextKind::Multiline).unwrap_err(),
            "Must be 20,000 characters or fewer"
        );
        assert!(check_text(&"a".repeat(5_000_000), TextKind::ListCell).is_err());
    }

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Kim.Lee@Police.Example.ORG ").map(|e| e.to_string()),
            Ok("kim.lee@police.example.org".to_owned())
        );
        for bad in ["", "kim", "kim@", "@x.org", "kim@localhost", "k m@x.org", "a@b@c.org", "kim@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn codes_are_upper_case_and_limited() {
        assert_eq!(Code::parse(" pol-n ").map(|c| c.to_string()), Ok("POL-N".into()));
        assert!(Code::parse("x").is_err());
        assert!(Code::parse("has space").is_err());
        assert!(Code::parse("ABCDEFGHIJKLMNOPQ").is_err());
    }

    #[test]
    fn numbers_in_range() {
        assert_eq!(number_in_range("12,345", "the population", 0, 10_000_000), Ok(12345));
        assert!(number_in_range("-1", "x", 0, 5).is_err());
        assert!(number_in_range("ten", "x", 0, 5).is_err());
        assert!(number_in_range("", "x", 0, 5).is_err());
    }

    #[test]
    fn required_text_limits() {
        assert_eq!(required_text("  A  ", "a name", 5), Ok("A".into()));
        assert!(required_text("   ", "a name", 5).is_err());
        assert!(required_text("abcdef", "a name", 5).is_err());
        assert!(required_text("a\u{7}", "a name", 5).is_err());
    }
}
