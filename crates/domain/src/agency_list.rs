//! Another agency's list, cross-referenced with a Marac's people: children's social care's
//! open and recently closed cases, one row per child or adult. Every row is checked before
//! anything is kept, and only near-certain matches are recorded, since no one reviews them.

use crate::import::{Column, Problems, Row, RowChecker, RowError, cells_of, column_index};
use crate::matching::{self, PersonDetails};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

const fn col(name: &'static str, required: bool, description: &'static str) -> Column {
    Column { name, required, description }
}

/// The list's columns. Headers must match exactly; columns may come in any order.
pub const COLUMNS: &[Column] = &[
    col("given_name", true, "The child's or adult's given name."),
    col("family_name", true, "Their family name."),
    col("date_of_birth", false, "Their date of birth: day/month/year, like 3/7/2015. Blank for an unborn child."),
    col("postcode", false, "The postcode of their address."),
    col("address", false, "The first line of their address."),
    col("status", true, "open or closed."),
    col("opened_on", true, "The day children's social care opened the case."),
    col("closed_on", false, "For a closed case, the day it closed."),
];

/// Score from which a row is recorded against a Marac's person: no one reviews these links,
/// so the bar is far above the coordinator's candidates.
pub const LINK_SCORE: u32 = 90;

/// One good row of a list. Sealed as it is before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Line in the file.
    pub line: usize,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth, if given.
    pub date_of_birth: Option<Date>,
    /// Postcode, if given.
    pub postcode: String,
    /// First line of the address, if given.
    pub address: String,
    /// Whether the case is still open.
    pub open: bool,
    /// The day it opened.
    pub opened_on: Date,
    /// The day it closed, for a closed case.
    pub closed_on: Option<Date>,
}

impl ListRow {
    /// The row as a person to match.
    #[must_use]
    pub fn person(&self) -> PersonDetails {
        PersonDetails {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            date_of_birth: self.date_of_birth,
            postcode: Some(self.postcode.clone()).filter(|p| !p.is_empty()),
            ..PersonDetails::default()
        }
    }

    /// `open` or `closed`, as stored.
    #[must_use]
    pub const fn status(&self) -> &'static str {
        if self.open { "open" } else { "closed" }
    }
}

/// Checks every row of a list (`header` and `rows` as the CSV reader gives them). Nothing is
/// returned unless every row is good: the errors list each problem with its line and column.
///
/// # Errors
/// Every problem found, in line order.
pub fn check(header: &[String], rows: &[(usize, Vec<String>)], today: Date) -> Result<Vec<ListRow>, Problems> {
    crate::import::check_all(Checker::new(header, today)?, rows)
}

/// Checks the rows of a list one at a time.
pub struct Checker {
    index: BTreeMap<&'static str, usize>,
    today: Date,
}

impl Checker {
    /// A checker for a list with this header.
    ///
    /// # Errors
    /// Every problem with the header.
    pub fn new(header: &[String], today: Date) -> Result<Self, Vec<RowError>> {
        Ok(Checker { index: column_index(header, COLUMNS)?, today })
    }
}

impl RowChecker for Checker {
    type Row = ListRow;

    fn row(&mut self, line: usize, record: &[String]) -> Result<ListRow, Vec<RowError>> {
        let cells = cells_of(&self.index, line, record)?;
        let mut row = Row { line, cells: &cells, errors: Vec::new() };
        match check_row(&mut row, self.today) {
            Some(good) if row.errors.is_empty() => Ok(good),
            _ => Err(row.errors),
        }
    }
}

fn check_row(row: &mut Row<'_>, today: Date) -> Option<ListRow> {
    for c in COLUMNS.iter().filter(|c| c.required) {
        if row.get(c.name).is_empty() {
            row.fail(c.name, "This must be filled in");
        }
    }
    let open = match row.get("status").to_ascii_lowercase().as_str() {
        "open" => Some(true),
        "closed" => Some(false),
        "" => None,
        other => {
            let other = other.to_owned();
            row.fail("status", format!("'{other}' is not open or closed"));
            None
        }
    };
    let date_of_birth = row.date("date_of_birth", today);
    let opened_on = row.date("opened_on", today);
    let closed_on = row.date("closed_on", today);
    match (open, closed_on) {
        (Some(false), None) if row.get("closed_on").is_empty() => {
            row.fail("closed_on", "A closed case needs the day it closed")
        }
        (Some(true), Some(_)) => row.fail("closed_on", "An open case has no closing day: leave it blank or say closed"),
        _ => {}
    }
    if let (Some(o), Some(c)) = (opened_on, closed_on)
        && c < o
    {
        row.fail("closed_on", "The case must close on or after the day it opened");
    }
    if !row.errors.is_empty() {
        return None;
    }
    Some(ListRow {
        line: row.line,
        given_name: row.get("given_name").to_owned(),
        family_name: row.get("family_name").to_owned(),
        date_of_birth,
        postcode: row.get("postcode").to_owned(),
        address: row.get("address").to_owned(),
        open: open?,
        opened_on: opened_on?,
        closed_on,
    })
}

/// A row recorded against one of the Marac's people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The row's place in the list.
    pub row: usize,
    /// The person's place in the people given.
    pub person: usize,
    /// The match's score, 0 to 100.
    pub score: u32,
}

/// The near-certain matches between a list and the Marac's people: for each person the best
/// row, if it scores at least [`LINK_SCORE`].
#[must_use]
pub fn links(rows: &[ListRow], people: &[PersonDetails]) -> Vec<Link> {
    let listed: Vec<PersonDetails> = rows.iter().map(ListRow::person).collect();
    let mut best: BTreeMap<usize, Link> = BTreeMap::new();
    // Best first, so the first row found for a person is theirs.
    for (row, person, m) in matching::likely_links(&listed, people) {
        if m.score >= LINK_SCORE {
            best.entry(person).or_insert(Link { row, person, score: m.score });
        }
    }
    best.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn table(lines: &[&str]) -> (Vec<String>, Vec<(usize, Vec<String>)>) {
        let split = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
        let rows = lines[1..].iter().enumerate().map(|(i, l)| (i + 2, split(l))).collect();
        (split(lines[0]), rows)
    }

    #[test]
    fn a_good_list_is_read_row_by_row() {
        let (h, r) = table(&[
            "family_name,given_name,date_of_birth,postcode,address,status,opened_on,closed_on",
            "Smith,Ellie,1/2/2015,NS1 4AB,1 High St,open,3/1/2026,",
            "Smith,Tom,30/6/2012,,,Closed,1/5/2025,2/9/2026",
        ]);
        let rows = check(&h, &r, TODAY).expect("good");
        assert_eq!(rows.len(), 2);
        assert!(rows[0].open && rows[0].closed_on.is_none());
        assert_eq!(rows[1].status(), "closed");
        assert_eq!(rows[1].closed_on, Some(date!(2026 - 09 - 02)));
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[0].person().postcode.as_deref(), Some("NS1 4AB"));
    }

    #[test]
    fn every_problem_is_listed_with_its_line_and_column() {
        let (h, r) = table(&["given_name,family_name,status,opened_on,closed_on,colour", "A,B,open,1/1/2026,"]);
        let errors = check(&h, &r, TODAY).expect_err("unknown column");
        assert_eq!(errors.shown[0].column, "colour");
        let (h, r) = table(&[
            "given_name,family_name,status,opened_on,closed_on",
            ",Smith,open,1/1/2026,",
            "Ann,Smith,pending,1/1/2026,",
            "Ann,Smith,closed,1/1/2026,",
            "Ann,Smith,open,1/1/2026,2/2/2026",
            "Ann,Smith,closed,5/5/2026,1/1/2026",
            "Ann,Smith,open,1/1/2099,",
        ]);
        let errors = check(&h, &r, TODAY).expect_err("bad rows");
        let got: Vec<(usize, &str)> = errors.shown.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "given_name"),
                (3, "status"),
                (4, "closed_on"),
                (5, "closed_on"),
                (6, "closed_on"),
                (7, "opened_on")
            ]
        );
        assert!(errors.shown[5].message.contains("future"), "{}", errors.shown[5].message);
        let (h, r) = table(&["given_name,family_name,status,opened_on"]);
        assert_eq!(check(&h, &r, TODAY).expect_err("empty").shown[0].message, "The file has no rows after the header");
    }

    #[test]
    fn only_near_certain_matches_are_linked_one_row_per_person() {
        let row = |given: &str, family: &str, dob: Date| ListRow {
            line: 2,
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: Some(dob),
            postcode: String::new(),
            address: String::new(),
            open: true,
            opened_on: date!(2026 - 01 - 01),
            closed_on: None,
        };
        let rows = [
            row("Ellie", "Smith", date!(2015 - 02 - 01)),
            row("Eleanor", "Smith", date!(2015 - 02 - 01)),
            row("Tom", "Smith", date!(2001 - 03 - 14)),
            ListRow { date_of_birth: None, ..row("Tom", "Smith", date!(2012 - 06 - 30)) },
        ];
        let person = |given: &str, dob: Date| PersonDetails {
            given_name: given.into(),
            family_name: "Smith".into(),
            date_of_birth: Some(dob),
            ..PersonDetails::default()
        };
        let people = [person("Ellie", date!(2015 - 02 - 01)), person("Tom", date!(2012 - 06 - 30))];
        // Ellie's own row, not her long-name twin. Tom is not linked: one Tom Smith was born
        // eleven years earlier, and a name alone is not enough.
        assert_eq!(links(&rows, &people), vec![Link { row: 0, person: 0, score: 100 }]);
    }
}
