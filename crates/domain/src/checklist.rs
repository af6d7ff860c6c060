//! Risk checklists as versioned data.
//!
//! A checklist (the Dash, the police DASH, the stalking questions, an area's licensed or local
//! version) is a TOML file: sections of questions, each answered yes, no or don't know, with a
//! source and a comment, optional "who" choices and a high-risk-factor marker; and a scoring
//! rule. Checklists ship in `checklists/` and areas add their own with
//! `marac questionnaire import`; every completed assessment keeps the id and version it used.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use toml::Spanned;

/// An answer to one question. "Don't know" is not "yes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Don't know.
    DontKnow,
}

/// How a checklist is scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scoring {
    /// Always "count of yes" for the checklists known so far.
    pub rule: ScoringRule,
    /// The checklist's own visible-high-risk threshold, if it has one (a Marac may set its own).
    pub high_risk_threshold: Option<u32>,
}

/// The scoring rules understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringRule {
    /// The score is the number of "yes" answers.
    CountYes,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Stable id within the checklist.
    pub id: String,
    /// The question.
    pub text: String,
    /// Guidance for the practitioner.
    pub help: Option<String>,
    /// "Who" choices (e.g. you, children, someone else).
    pub who: Vec<String>,
    /// Marked as a high-risk factor.
    pub high_risk_factor: bool,
}

/// A group of questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Stable id within the checklist.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Guidance for the section.
    pub help: Option<String>,
    /// Its questions.
    pub questions: Vec<Question>,
}

/// A versioned checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    /// Stable id, e.g. `safelives-dash`.
    pub id: String,
    /// Version, e.g. `2026.1`; id and version together name it for ever.
    pub version: String,
    /// Title shown to practitioners.
    pub title: String,
    /// One-line description.
    pub description: String,
    /// Its sections, in order.
    pub sections: Vec<Section>,
    /// How it is scored.
    pub scoring: Scoring,
}

/// A checklist file that cannot be used: what is wrong, and on which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistError {
    /// 1-based line in the file, where known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ChecklistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ChecklistError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    id: Spanned<String>,
    version: Spanned<String>,
    title: String,
    #[serde(default)]
    description: String,
    scoring: Spanned<RawScoring>,
    sections: Vec<RawSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    rule: Spanned<String>,
    high_risk_threshold: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    help: Option<String>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: Spanned<String>,
    help: Option<String>,
    #[serde(default)]
    who: Vec<String>,
    #[serde(default)]
    high_risk_factor: bool,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' || c == '.')
}

impl Checklist {
    /// Reads and checks a checklist file.
    ///
    /// # Errors
    /// The first problem, with its line.
    pub fn parse(text: &str) -> Result<Checklist, ChecklistError> {
        let raw: RawChecklist = toml::from_str(text).map_err(|e| ChecklistError {
            line: e.span().map(|s| line_of(text, s.start)),
            message: e.message().to_owned(),
        })?;
        let at = |span: std::ops::Range<usize>, message: String| ChecklistError {
            line: Some(line_of(text, span.start)),
            message,
        };
        if !is_slug(raw.id.get_ref()) {
            return Err(at(raw.id.span(), "id must be lower-case letters, digits, '-', '_' or '.'".into()));
        }
        if raw.version.get_ref().trim().is_empty() {
            return Err(at(raw.version.span(), "version must not be empty".into()));
        }
        if raw.scoring.get_ref().rule.get_ref() != "count_yes" {
            let rule = &raw.scoring.get_ref().rule;
            return Err(at(rule.span(), format!("unknown scoring rule '{}' (expected count_yes)", rule.get_ref())));
        }
        if raw.sections.is_empty() {
            return Err(ChecklistError { line: None, message: "a checklist needs at least one [[sections]]".into() });
        }
        let mut seen_sections = HashSet::new();
        let mut seen_questions = HashSet::new();
        let mut sections = Vec::new();
        for s in raw.sections {
            if !is_slug(s.id.get_ref()) || !seen_sections.insert(s.id.get_ref().clone()) {
                return Err(at(s.id.span(), format!("section id '{}' is not a unique lower-case id", s.id.get_ref())));
            }
            if s.questions.is_empty() {
                return Err(at(s.id.span(), format!("section '{}' has no questions", s.id.get_ref())));
            }
            let mut questions = Vec::new();
            for q in s.questions {
                if !is_slug(q.id.get_ref()) || !seen_questions.insert(q.id.get_ref().clone()) {
                    return Err(at(
                        q.id.span(),
                        format!("question id '{}' is not a unique lower-case id", q.id.get_ref()),
                    ));
                }
                if q.text.get_ref().trim().is_empty() {
                    return Err(at(q.text.span(), format!("question '{}' has no text", q.id.get_ref())));
                }
                questions.push(Question {
                    id: q.id.into_inner(),
                    text: q.text.into_inner(),
                    help: q.help,
                    who: q.who,
                    high_risk_factor: q.high_risk_factor,
                });
            }
            sections.push(Section { id: s.id.into_inner(), title: s.title, help: s.help, questions });
        }
        let count = seen_questions.len();
        let scoring = raw.scoring.into_inner();
        if let Some(t) = &scoring.high_risk_threshold
            && (*t.get_ref() == 0 || usize::try_from(*t.get_ref()).unwrap_or(usize::MAX) > count)
        {
            return Err(at(t.span(), format!("high_risk_threshold must be between 1 and the {count} questions")));
        }
        Ok(Checklist {
            id: raw.id.into_inner(),
            version: raw.version.into_inner(),
            title: raw.title,
            description: raw.description,
            sections,
            scoring: Scoring {
                rule: ScoringRule::CountYes,
                high_risk_threshold: scoring.high_risk_threshold.map(Spanned::into_inner),
            },
        })
    }

    /// Every question, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    /// The score of a set of answers, and which questions are still unanswered.
    ///
    /// # Errors
    /// An answer to a question this checklist does not have.
    pub fn score(&self, answers: &BTreeMap<String, Answer>) -> Result<Score, String> {
        if let Some(unknown) = answers.keys().find(|id| !self.questions().any(|q| &q.id == *id)) {
            return Err(format!("'{unknown}' is not a question of {} {}", self.id, self.version));
        }
        let yes = self.questions().filter(|q| answers.get(&q.id) == Some(&Answer::Yes)).count();
        let unanswered: Vec<String> =
            self.questions().filter(|q| !answers.contains_key(&q.id)).map(|q| q.id.clone()).collect();
        Ok(Score { yes: u32::try_from(yes).unwrap_or(u32::MAX), unanswered })
    }
}

/// The result of scoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// "Yes" answers.
    pub yes: u32,
    /// Questions not yet answered.
    pub unanswered: Vec<String>,
}

/// The checklists this product ships, in its own wording.
pub const SHIPPED: [&str; 3] = [
    include_str!("../../../checklists/safelives-dash-24.toml"),
    include_str!("../../../checklists/police-dash-2009-27.toml"),
    include_str!("../../../checklists/stalking-screening-11.toml"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Checklist> {
        SHIPPED.iter().map(|t| Checklist::parse(t).unwrap_or_else(|e| panic!("{e}"))).collect()
    }

    #[test]
    fn the_shipped_checklists_have_the_right_number_of_questions() {
        let counts: Vec<(String, usize, Option<u32>)> = shipped()
            .into_iter()
            .map(|c| (c.id.clone(), c.questions().count(), c.scoring.high_risk_threshold))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("safelives-dash".into(), 24, Some(14)),
                ("police-dash-2009".into(), 27, Some(14)),
                ("stalking-screening".into(), 11, None)
            ]
        );
    }

    #[test]
    fn score_counts_yes_and_not_dont_know() {
        let dash = &shipped()[0];
        let ids: Vec<String> = dash.questions().map(|q| q.id.clone()).collect();
        let mut answers = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            let a = if i < 14 {
                Answer::Yes
            } else if i < 20 {
                Answer::DontKnow
            } else {
                Answer::No
            };
            answers.insert(id.clone(), a);
        }
        assert_eq!(dash.score(&answers), Ok(Score { yes: 14, unanswered: vec![] }));
        answers.remove(&ids[0]);
        let s = dash.score(&answers).unwrap_or(Score { yes: 0, unanswered: vec![] });
        assert_eq!((s.yes, s.unanswered), (13, vec![ids[0].clone()]));
        answers.insert("no_such_question".into(), Answer::Yes);
        assert!(dash.score(&answers).is_err());
    }

    #[test]
    fn bad_files_say_what_and_where() {
        let good = SHIPPED[2];
        let table: [(String, usize, &str); 6] = [
            (
                good.replacen("id = \"previous_harassment\"", "id = \"fear\"", 1),
                20,
                "question id 'fear' is not a unique",
            ),
            (good.replacen("rule = \"count_yes\"", "rule = \"weighted\"", 1), 9, "unknown scoring rule 'weighted'"),
            (
                good.replacen(
                    "[scoring]\nrule = \"count_yes\"",
                    "[scoring]\nrule = \"count_yes\"\nhigh_risk_threshold = 12",
                    1,
                ),
                10,
                "high_risk_threshold must be between 1 and the 11",
            ),
            (
                good.replacen("text = \"Is the victim very scared?\"", "text = \"  \"", 1),
                17,
                "question 'fear' has no text",
            ),
            (
                good.replacen("id = \"loitering\"", "id = \"loitering\"\ncolour = \"red\"", 1),
                33,
                "unknown field `colour`",
            ),
            (
                good.replacen("id = \"stalking-screening\"", "id = \"Stalking Screening\"", 1),
                3,
                "id must be lower-case",
            ),
        ];
        for (text, line, message) in table {
            let e = Checklist::parse(&text).err().unwrap_or(ChecklistError { line: None, message: "parsed".into() });
            assert!(e.message.starts_with(message), "{e}");
            assert_eq!(e.line, Some(line), "{e}");
        }
    }
}
