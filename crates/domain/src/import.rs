//! Importing a Marac's history from a spreadsheet: the documented CSV template (one row per
//! referral), checking every row before anything is written, and turning a good row into the
//! referral form and plain profile a referral made on the pages would have.

use crate::referral_form::field;
use crate::referral_form::{
    ETHNICITIES, FormMap, GENDERS, Profile, RELATIONSHIPS, age_group, age_on, is_minoritised, parse_date,
};
use crate::referral_rules::Criterion;
use std::collections::BTreeMap;
use time::Date;

/// A column of the template: its name, whether it must be filled in, and what it holds.
pub struct Column {
    /// The header, exactly.
    pub name: &'static str,
    /// Must be filled in on every row.
    pub required: bool,
    /// What goes in it.
    pub description: &'static str,
}

const fn col(name: &'static str, required: bool, description: &'static str) -> Column {
    Column { name, required, description }
}

/// The template's columns, in order. Headers must match exactly; columns may come in any order.
pub const COLUMNS: &[Column] = &[
    col(
        "source_reference",
        true,
        "Your spreadsheet's own reference for the referral, unique per Marac. A second import skips rows whose reference is already in.",
    ),
    col("marac", true, "The Marac's code, as set by the administrator (for example NSN)."),
    col("referral_date", true, "The day the referral was made: day/month/year, like 3/7/2024."),
    col("incident_date", false, "The day of the incident or concern."),
    col("referring_agency", true, "The referring agency's code."),
    col("joint_agency", false, "For a joint referral, the other agency's code."),
    col("victim_given_name", true, "The victim's given name."),
    col("victim_family_name", true, "The victim's family name."),
    col("victim_date_of_birth", false, "The victim's date of birth."),
    col("victim_age", false, "The victim's age at referral, if the date of birth is not known."),
    col("victim_gender", false, "female, male, non_binary, other or not_known."),
    col(
        "victim_ethnicity",
        false,
        "An ONS 2021 ethnic group code, like white_british or asian_pakistani (see the list below).",
    ),
    col("victim_disability", false, "yes, no or not_known."),
    col("victim_lgbt", false, "yes, no or not_known."),
    col("victim_postcode", false, "The victim's postcode."),
    col("perpetrator_given_name", true, "The given name of the person causing harm."),
    col("perpetrator_family_name", true, "The family name of the person causing harm."),
    col("perpetrator_date_of_birth", false, "Their date of birth."),
    col("perpetrator_age", false, "Their age at referral, if the date of birth is not known."),
    col("perpetrator_gender", false, "female, male, non_binary, other or not_known."),
    col("perpetrator_relationship", false, "partner, ex_partner, family or other."),
    col("score", false, "The risk checklist score, 0 to 24."),
    col(
        "criteria",
        false,
        "Criteria met, separated by semicolons: visible_high_risk; professional_judgement; potential_escalation; repeat.",
    ),
    col("repeat", false, "yes if the referral was a repeat, else no."),
    col("children", false, "Children in the household (a whole number)."),
    col("children_known_to_social_care", false, "Of those, children known to children's social care."),
    col("children_on_protection_plan", false, "Of those, children subject to a child protection plan."),
    col("heard_at", false, "The day of the meeting that heard the case, if it was heard."),
];

/// A problem with the file, tied to its line (1 is the header) and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file.
    pub line: usize,
    /// The column, or empty for the whole line.
    pub column: String,
    /// What is wrong, for the person who made the file.
    pub message: String,
}

/// How many problems a report lists; the rest are counted, not kept.
pub const PROBLEMS_SHOWN: usize = 100;

/// The most cells a line of an uploaded file may have: more than any template, so a line with
/// more is a problem of its own rather than a header or row to look through.
pub const MAX_CELLS: usize = 200;

/// Longest part of a cell quoted back in a problem.
const QUOTED: usize = 60;

/// What is wrong with a file: the first [`PROBLEMS_SHOWN`] problems by line and column, and how
/// many more rows have problems (counted, not kept), so a file of a million bad lines makes a
/// report of a hundred.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    /// The problems listed.
    pub shown: Vec<RowError>,
    /// Rows with problems beyond those listed.
    pub more_rows: usize,
}

impl Problems {
    /// A report of one problem.
    #[must_use]
    pub fn one(line: usize, column: &str, message: impl Into<String>) -> Self {
        Problems { shown: vec![RowError { line, column: column.to_owned(), message: message.into() }], more_rows: 0 }
    }

    /// Adds one row's problems: listed while there is room, otherwise the row is counted.
    pub fn add_row(&mut self, errors: Vec<RowError>) {
        if errors.is_empty() {
            return;
        }
        let room = PROBLEMS_SHOWN.saturating_sub(self.shown.len());
        if errors.len() > room {
            self.more_rows += 1;
        }
        self.shown.extend(errors.into_iter().take(room));
    }

    /// Whether nothing is wrong.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty() && self.more_rows == 0
    }

    /// "and 1 more row with problems", "and 2,345 more rows with problems", or nothing.
    #[must_use]
    pub fn more(&self) -> Option<String> {
        match self.more_rows {
            0 => None,
            1 => Some("and 1 more row with problems".to_owned()),
            n => Some(format!("and {} more rows with problems", crate::fields::thousands(n))),
        }
    }
}

impl From<Vec<RowError>> for Problems {
    fn from(errors: Vec<RowError>) -> Self {
        let mut p = Problems::default();
        p.add_row(errors);
        p
    }
}

/// The outcome of checking a file's rows as they come: the good rows while every row so far is
/// good (once one is not, nothing will be filed, so they are no longer kept), and the problems.
#[derive(Debug)]
pub struct Checked<R> {
    good: Vec<R>,
    problems: Problems,
    rows: usize,
}

impl<R> Default for Checked<R> {
    fn default() -> Self {
        Checked { good: Vec::new(), problems: Problems::default(), rows: 0 }
    }
}

impl<R> Checked<R> {
    /// Adds one row's outcome.
    pub fn add(&mut self, outcome: Result<R, Vec<RowError>>) {
        self.rows += 1;
        match outcome {
            Ok(row) if self.problems.is_empty() => self.good.push(row),
            Ok(_) => {}
            Err(errors) => {
                self.good = Vec::new();
                self.problems.add_row(errors);
            }
        }
    }

    /// Adds a problem that is not a row's (a line that cannot be read).
    pub fn fail(&mut self, errors: Vec<RowError>) {
        self.good = Vec::new();
        self.problems.add_row(errors);
    }

    /// Every good row, or the report of what is wrong.
    ///
    /// # Errors
    /// The problems, when any row has one or there were no rows.
    pub fn finish(self) -> Result<Vec<R>, Problems> {
        if self.rows == 0 && self.problems.is_empty() {
            return Err(Problems::one(1, "", "The file has no rows after the header"));
        }
        if self.problems.is_empty() { Ok(self.good) } else { Err(self.problems) }
    }
}

/// A cell quoted back in a problem, cut short so a huge cell makes a short message.
#[must_use]
pub fn quoted(cell: &str) -> String {
    let mut chars = cell.chars();
    let head: String = chars.by_ref().take(QUOTED).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// Checks a file one row at a time, so a file is never held as a table of strings.
pub trait RowChecker {
    /// A good row.
    type Row;
    /// Checks one row (its cells as the CSV reader gives them, and its line); the good row, or
    /// its problems.
    ///
    /// # Errors
    /// Every problem with the row.
    fn row(&mut self, line: usize, record: &[String]) -> Result<Self::Row, Vec<RowError>>;
}

/// The names the file may use, resolved to what the system knows.
pub struct Lookup<'a> {
    /// Marac code to id.
    pub maracs: &'a BTreeMap<String, i64>,
    /// Agency code to id.
    pub agencies: &'a BTreeMap<String, i64>,
    /// No date may be after this.
    pub today: Date,
}

/// One good row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Line in the file.
    pub line: usize,
    /// The spreadsheet's reference.
    pub source_reference: String,
    /// The Marac.
    pub marac_id: i64,
    /// Referral day.
    pub referral_date: Date,
    /// Incident day.
    pub incident_date: Date,
    /// Referring agency.
    pub agency_id: i64,
    /// Joint agency.
    pub joint_agency_id: Option<i64>,
    /// Score.
    pub score: Option<u32>,
    /// Criteria met.
    pub criteria: Vec<Criterion>,
    /// A repeat.
    pub repeat: bool,
    /// Children.
    pub children: u32,
    /// Meeting day, if heard.
    pub heard_at: Option<Date>,
    /// The other fields, as the referral form keys them.
    pub form: FormMap,
    /// The plain profile returns count.
    pub profile: Profile,
    /// Age band.
    pub victim_age_group: String,
    /// Age flags the returns count.
    pub age_flags: Vec<crate::referral_rules::AgeFlag>,
}

/// One line of a file being checked, collecting its problems.
pub(crate) struct Row<'r> {
    pub(crate) line: usize,
    pub(crate) cells: &'r BTreeMap<&'static str, String>,
    pub(crate) errors: Vec<RowError>,
}

impl Row<'_> {
    pub(crate) fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", |s| s.trim())
    }

    pub(crate) fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors.push(RowError { line: self.line, column: column.to_owned(), message: message.into() });
    }

    pub(crate) fn date(&mut self, column: &str, today: Date) -> Option<Date> {
        let raw = self.get(column).to_owned();
        if raw.is_empty() {
            return None;
        }
        match parse_date(&raw) {
            Some(d) if d > today => {
                self.fail(column, format!("{raw} is in the future"));
                None
            }
            Some(d) => Some(d),
            None => {
                self.fail(column, format!("'{raw}' is not a date: write day/month/year, like 3/7/2024"));
                None
            }
        }
    }

    fn number(&mut self, column: &str, max: u32) -> Option<u32> {
        let raw = self.get(column).to_owned();
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.fail(column, format!("'{raw}' is not a whole number from 0 to {max}"));
                None
            }
        }
    }

    fn code(&mut self, column: &str, allowed: &[(&str, &str)]) -> String {
        let raw = self.get(column).to_ascii_lowercase();
        if !raw.is_empty() && !allowed.iter().any(|(c, _)| *c == raw) {
            let codes: Vec<&str> = allowed.iter().map(|(c, _)| *c).collect();
            let shown = if codes.len() > 8 { "see the template's list".to_owned() } else { codes.join(", ") };
            self.fail(column, format!("'{raw}' is not one of the codes ({shown})"));
        }
        raw
    }
}

const YES_NO_UNKNOWN: &[(&str, &str)] = &[("yes", ""), ("no", ""), ("not_known", "")];
const YES_NO: &[(&str, &str)] = &[("yes", ""), ("no", "")];

/// Where each of `columns` is in `header`: every unknown, repeated or missing required column
/// is a problem on line 1.
///
/// # Errors
/// Every problem with the header.
pub(crate) fn column_index(
    header: &[String],
    columns: &[Column],
) -> Result<BTreeMap<&'static str, usize>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut index = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        match columns.iter().find(|c| c.name == name) {
            Some(c) => {
                if index.insert(c.name, i).is_some() {
                    errors.push(RowError {
                        line: 1,
                        column: name.to_owned(),
                        message: "This column appears twice".into(),
                    });
                }
            }
            None => errors.push(RowError {
                line: 1,
                column: quoted(name),
                message: format!("'{}' is not a column of the template", quoted(name)),
            }),
        }
    }
    for c in columns.iter().filter(|c| c.required && !index.contains_key(c.name)) {
        errors.push(RowError { line: 1, column: c.name.to_owned(), message: "This required column is missing".into() });
    }
    if errors.is_empty() { Ok(index) } else { Err(errors) }
}

/// Checks every row of a file (`header` and `rows` as the CSV reader gives them, each row with
/// its line) and turns the good ones into [`ImportRow`]s. Nothing is returned unless every row
/// is good: the errors list each problem with its line and column.
///
/// # Errors
/// Every problem found, in line order.
pub fn check(
    header: &[String],
    rows: &[(usize, Vec<String>)],
    lookup: &Lookup<'_>,
) -> Result<Vec<ImportRow>, Problems> {
    check_all(Checker::new(header, lookup)?, rows)
}

/// Checks `rows` with `checker`: every good row, or the report of what is wrong.
///
/// # Errors
/// The problems, when any row has one or there are no rows.
pub fn check_all<C: RowChecker>(mut checker: C, rows: &[(usize, Vec<String>)]) -> Result<Vec<C::Row>, Problems> {
    let mut checked = Checked::default();
    for (line, record) in rows {
        checked.add(checker.row(*line, record));
    }
    checked.finish()
}

/// A row's cells by column, each checked as text first: a cell a page could be fooled by, or a
/// huge one, goes no further.
///
/// # Errors
/// A problem for each cell that is not acceptable text.
pub(crate) fn cells_of(
    index: &BTreeMap<&'static str, usize>,
    line: usize,
    record: &[String],
) -> Result<BTreeMap<&'static str, String>, Vec<RowError>> {
    let cells: BTreeMap<&'static str, String> =
        index.iter().map(|(name, i)| (*name, record.get(*i).cloned().unwrap_or_default())).collect();
    let bad: Vec<RowError> = cells
        .iter()
        .filter_map(|(name, value)| {
            crate::fields::check_text(value, crate::fields::TextKind::ListCell).err().map(|message| RowError {
                line,
                column: (*name).to_owned(),
                message,
            })
        })
        .collect();
    if bad.is_empty() { Ok(cells) } else { Err(bad) }
}

/// Checks the rows of a history file one at a time.
pub struct Checker<'a> {
    index: BTreeMap<&'static str, usize>,
    lookup: &'a Lookup<'a>,
    seen: BTreeMap<(i64, String), usize>,
}

impl<'a> Checker<'a> {
    /// A checker for a file with this header.
    ///
    /// # Errors
    /// Every problem with the header.
    pub fn new(header: &[String], lookup: &'a Lookup<'a>) -> Result<Self, Vec<RowError>> {
        Ok(Checker { index: column_index(header, COLUMNS)?, lookup, seen: BTreeMap::new() })
    }
}

impl RowChecker for Checker<'_> {
    type Row = ImportRow;

    fn row(&mut self, line: usize, record: &[String]) -> Result<ImportRow, Vec<RowError>> {
        let cells = cells_of(&self.index, line, record)?;
        let mut row = Row { line, cells: &cells, errors: Vec::new() };
        match check_row(&mut row, self.lookup, &mut self.seen) {
            Some(good) if row.errors.is_empty() => Ok(good),
            _ => Err(row.errors),
        }
    }
}

fn check_row(row: &mut Row<'_>, lookup: &Lookup<'_>, seen: &mut BTreeMap<(i64, String), usize>) -> Option<ImportRow> {
    for c in COLUMNS.iter().filter(|c| c.required) {
        if row.get(c.name).is_empty() {
            row.fail(c.name, "This must be filled in");
        }
    }
    let marac_code = row.get("marac").to_ascii_uppercase();
    let marac_id = lookup.maracs.get(&marac_code).copied();
    if marac_id.is_none() && !marac_code.is_empty() {
        row.fail("marac", format!("No Marac has the code '{marac_code}'"));
    }
    let agency = |row: &mut Row<'_>, column: &str| {
        let code = row.get(column).to_ascii_uppercase();
        if code.is_empty() {
            return None;
        }
        let found = lookup.agencies.get(&code).copied();
        if found.is_none() {
            row.fail(column, format!("No agency has the code '{code}'"));
        }
        found
    };
    let agency_id = agency(row, "referring_agency");
    let joint_agency_id = agency(row, "joint_agency");
    let reference = row.get("source_reference").to_owned();
    if let (Some(m), false) = (marac_id, reference.is_empty())
        && let Some(first) = seen.insert((m, reference.clone()), row.line)
    {
        row.fail("source_reference", format!("The same reference is on line {first}"));
    }
    let referral_date = row.date("referral_date", lookup.today);
    let incident_date = row.date("incident_date", lookup.today);
    if let (Some(r), Some(i)) = (referral_date, incident_date)
        && i > r
    {
        row.fail("incident_date", "The incident must be on or before the referral");
    }
    let heard_at = row.date("heard_at", lookup.today);
    if let (Some(r), Some(h)) = (referral_date, heard_at)
        && h < r
    {
        row.fail("heard_at", "The meeting must be on or after the referral");
    }
    let victim_dob = row.date("victim_date_of_birth", lookup.today);
    let perpetrator_dob = row.date("perpetrator_date_of_birth", lookup.today);
    let victim_age = row.number("victim_age", 120);
    let perpetrator_age = row.number("perpetrator_age", 120);
    let score = row.number("score", 24);
    let children = row.number("children", 30).unwrap_or(0);
    let known = row.number("children_known_to_social_care", 30).unwrap_or(0);
    let plan = row.number("children_on_protection_plan", 30).unwrap_or(0);
    if known > children || plan > children {
        row.fail("children", "Fewer children than those counted as known to social care or on a plan");
    }
    let victim_gender = row.code("victim_gender", GENDERS);
    let perpetrator_gender = row.code("perpetrator_gender", GENDERS);
    let ethnicity = row.code("victim_ethnicity", ETHNICITIES);
    let disability = row.code("victim_disability", YES_NO_UNKNOWN);
    let lgbt = row.code("victim_lgbt", YES_NO_UNKNOWN);
    let relationship = row.code("perpetrator_relationship", RELATIONSHIPS);
    let repeat = row.code("repeat", YES_NO) == "yes";
    let mut criteria = Vec::new();
    for code in row.get("criteria").to_ascii_lowercase().split(';').map(str::trim).filter(|c| !c.is_empty()) {
        match Criterion::from_code(code) {
            Some(c) => criteria.push(c),
            None => row.fail("criteria", format!("'{code}' is not a criterion")),
        }
    }
    if repeat && !criteria.contains(&Criterion::Repeat) {
        criteria.push(Criterion::Repeat);
    }
    if !row.errors.is_empty() {
        return None;
    }
    let (marac_id, agency_id, referral_date) = (marac_id?, agency_id?, referral_date?);
    let age_at = |dob: Option<Date>, age: Option<u32>| dob.map(|d| age_on(d, referral_date)).or(age);
    let v_age = age_at(victim_dob, victim_age);
    let p_age = age_at(perpetrator_dob, perpetrator_age);
    let yes_no = |v: &str| match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let mut form = FormMap::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            form.insert(key.to_owned(), value);
        }
    };
    let dmy = |d: Date| format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year());
    put(field::REFERRAL_MARAC, marac_id.to_string());
    put(field::REFERRAL_INCIDENT_DATE, dmy(incident_date.unwrap_or(referral_date)));
    put(field::REFERRAL_JOINT_AGENCY, joint_agency_id.map(|a| a.to_string()).unwrap_or_default());
    put(field::VICTIM_GIVEN_NAME, row.get("victim_given_name").to_owned());
    put(field::VICTIM_FAMILY_NAME, row.get("victim_family_name").to_owned());
    put(field::VICTIM_DATE_OF_BIRTH, victim_dob.map(dmy).unwrap_or_default());
    put(
        field::VICTIM_AGE,
        if victim_dob.is_none() { victim_age.map(|a| a.to_string()).unwrap_or_default() } else { String::new() },
    );
    put(field::VICTIM_GENDER, victim_gender.clone());
    put(field::VICTIM_ETHNICITY, ethnicity.clone());
    put(field::VICTIM_DISABILITY, disability.clone());
    put(field::VICTIM_LGBT, lgbt.clone());
    put(field::VICTIM_POSTCODE, row.get("victim_postcode").to_uppercase());
    put("perpetrators.0.given_name", row.get("perpetrator_given_name").to_owned());
    put("perpetrators.0.family_name", row.get("perpetrator_family_name").to_owned());
    put("perpetrators.0.date_of_birth", perpetrator_dob.map(dmy).unwrap_or_default());
    put(
        "perpetrators.0.age",
        if perpetrator_dob.is_none() {
            perpetrator_age.map(|a| a.to_string()).unwrap_or_default()
        } else {
            String::new()
        },
    );
    put("perpetrators.0.gender", perpetrator_gender);
    put("perpetrators.0.relationship", relationship.clone());
    put(field::CHILDREN_ANY, if children > 0 { "yes" } else { "no" }.to_owned());
    put(field::SUMMARY_TEXT, format!("Imported from the Marac's records (reference {}).", row.get("source_reference")));
    let young = p_age.map(|a| u32::from(a <= 17));
    let profile = Profile {
        victim_gender: if victim_gender == "not_known" { String::new() } else { victim_gender },
        victim_minoritised: match ethnicity.as_str() {
            "" | "not_known" => None,
            code => Some(is_minoritised(code)),
        },
        victim_disabled: yes_no(&disability),
        victim_lgbt: yes_no(&lgbt),
        young_perpetrators: young,
        young_perpetrators_partner: if young == Some(1) && matches!(relationship.as_str(), "partner" | "ex_partner") {
            1
        } else {
            0
        },
        children_known_to_social_care: known,
        children_on_protection_plan: plan,
        victim_postcode_sector: crate::referral_form::postcode_sector(row.get("victim_postcode")),
    };
    let mut flags = Vec::new();
    if v_age.is_some_and(|a| (16..=17).contains(&a)) {
        flags.push(crate::referral_rules::AgeFlag::VictimAged16To17);
    }
    if young == Some(1) {
        flags.push(crate::referral_rules::AgeFlag::PerpetratorAged17OrUnder);
    }
    Some(ImportRow {
        line: row.line,
        source_reference: row.get("source_reference").to_owned(),
        marac_id,
        referral_date,
        incident_date: incident_date.unwrap_or(referral_date),
        agency_id,
        joint_agency_id,
        score,
        criteria,
        repeat,
        children,
        heard_at,
        form,
        profile,
        victim_age_group: age_group(v_age).to_owned(),
        age_flags: flags,
    })
}

/// The template as a CSV header line, for people to fill in.
#[must_use]
pub fn template_header() -> String {
    COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn lookup_maps() -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
        (
            [("NSN".to_owned(), 1)].into_iter().collect(),
            [("POL".to_owned(), 10), ("NHS".to_owned(), 11)].into_iter().collect(),
        )
    }

    fn header() -> Vec<String> {
        COLUMNS.iter().map(|c| c.name.to_owned()).collect()
    }

    fn row(pairs: &[(&str, &str)]) -> Vec<String> {
        COLUMNS
            .iter()
            .map(|c| pairs.iter().find(|(k, _)| *k == c.name).map(|(_, v)| (*v).to_owned()).unwrap_or_default())
            .collect()
    }

    fn good(reference: &str) -> Vec<(&'static str, String)> {
        vec![
            ("source_reference", reference.to_owned()),
            ("marac", "nsn".into()),
            ("referral_date", "3/7/2024".into()),
            ("referring_agency", "POL".into()),
            ("joint_agency", "NHS".into()),
            ("victim_given_name", "Kate".into()),
            ("victim_family_name", "Smyth".into()),
            ("victim_date_of_birth", "3/7/2007".into()),
            ("victim_gender", "female".into()),
            ("victim_ethnicity", "black_african".into()),
            ("perpetrator_given_name", "Lee".into()),
            ("perpetrator_family_name", "Ward".into()),
            ("perpetrator_age", "17".into()),
            ("perpetrator_relationship", "ex_partner".into()),
            ("criteria", "visible_high_risk".into()),
            ("repeat", "yes".into()),
            ("children", "2".into()),
            ("children_known_to_social_care", "1".into()),
            ("heard_at", "24/7/2024".into()),
        ]
    }

    fn as_row(pairs: &[(&'static str, String)]) -> Vec<String> {
        let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        row(&p)
    }

    #[test]
    fn a_good_row_becomes_a_referral() {
        let (m, a) = lookup_maps();
        let lookup = Lookup { maracs: &m, agencies: &a, today: date!(2026 - 11 - 23) };
        let rows = check(&header(), &[(2, as_row(&good("R1")))], &lookup).unwrap();
        let r = &rows[0];
        assert_eq!((r.marac_id, r.agency_id, r.joint_agency_id, r.repeat), (1, 10, Some(11), true));
        assert_eq!(r.criteria, [Criterion::VisibleHighRisk, Criterion::Repeat]);
        let flags = crate::referral_rules::join_codes(&r.age_flags, crate::referral_rules::AgeFlag::code);
        assert_eq!((r.victim_age_group.as_str(), flags.as_str()), ("16-17", "victim_16_17,perpetrator_under_18"));
        assert_eq!(
            (r.profile.victim_minoritised, r.profile.young_perpetrators, r.profile.young_perpetrators_partner),
            (Some(true), Some(1), 1)
        );
        assert_eq!(r.form[field::VICTIM_GIVEN_NAME], "Kate");
        assert_eq!(r.heard_at, Some(date!(2024 - 07 - 24)));
    }

    #[test]
    fn every_bad_row_is_listed_with_its_line_and_column() {
        let (m, a) = lookup_maps();
        let lookup = Lookup { maracs: &m, agencies: &a, today: date!(2026 - 11 - 23) };
        let mut bad = good("R2");
        bad[1].1 = "XYZ".into();
        bad[2].1 = "31/2/2024".into();
        let mut late = good("R3");
        late[18].1 = "1/1/2024".into();
        let errors = check(
            &header(),
            &[(2, as_row(&good("R1"))), (3, as_row(&bad)), (4, as_row(&late)), (5, as_row(&good("R1")))],
            &lookup,
        )
        .unwrap_err();
        let got: Vec<(usize, &str)> = errors.shown.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(got, [(3, "marac"), (3, "referral_date"), (4, "heard_at"), (5, "source_reference")]);
        assert!(errors.shown[0].message.contains("XYZ"));
        let mut header = header();
        header.push("shoe_size".into());
        header.retain(|h| h != "marac");
        let errors = check(&header, &[], &lookup).unwrap_err();
        let got: Vec<(usize, &str)> = errors.shown.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(got, [(1, "shoe_size"), (1, "marac")]);
    }
}

#[cfg(test)]
mod problems_tests {
    use super::*;

    #[test]
    fn a_report_lists_the_first_hundred_problems_and_counts_the_rest() {
        let mut p = Problems::default();
        let bad = |line| vec![RowError { line, column: "marac".into(), message: "Unknown".into() }];
        for line in 2..1_000_002 {
            p.add_row(bad(line));
        }
        assert_eq!(p.shown.len(), PROBLEMS_SHOWN);
        assert_eq!(p.shown[99].line, 101);
        assert_eq!(p.more_rows, 999_900);
        assert_eq!(p.more().unwrap(), "and 999,900 more rows with problems");
        // A row whose problems do not all fit is counted as one more.
        let mut p = Problems::default();
        for line in 2..101 {
            p.add_row(bad(line));
        }
        p.add_row([bad(101), bad(101)].concat());
        assert_eq!((p.shown.len(), p.more().as_deref()), (100, Some("and 1 more row with problems")));
        assert!(Problems::default().more().is_none() && Problems::default().is_empty());
    }

    #[test]
    fn a_huge_cell_is_quoted_short() {
        let huge = "x".repeat(5_000_000);
        assert_eq!(quoted(&huge).chars().count(), 61);
        assert_eq!(quoted("marac"), "marac");
    }
}
