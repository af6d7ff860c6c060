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

/// A required name (of a person, agency, Marac or partnership), trimmed, 1 to 200 characters.
///
/// # Errors
/// A message for the person who typed it; `what` names the field ("a name", "the area").
pub fn required_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(format!("Enter {what}"));
    }
    if s.chars().count() > max {
        return Err(format!("Must be {max} characters or fewer"));
    }
    if s.chars().any(char::is_control) {
        return Err("Must not contain control characters".into());
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
