//! The SafeLives return as files: CSV and XLSX, each marked OFFICIAL-SENSITIVE and carrying
//! the definitions and checks with the figures. (JSON is the [`Built`] value serialised.)

use crate::routes::returns::Built;
use anyhow::Context;
use rust_xlsxwriter::{Format, Workbook};

/// The columns of the figures, in both files.
const COLUMNS: [&str; 6] = ["key", "figure", "value", "recorded_for", "label", "definition"];

fn value(line: &marac_domain::safelives_return::Line) -> String {
    line.figure.number().map(|n| n.to_string()).unwrap_or_default()
}

/// The return as CSV: the marking and scope first, then one row per figure, then the checks.
///
/// # Errors
/// Only if writing to memory fails.
pub fn csv(b: &Built) -> anyhow::Result<Vec<u8>> {
    let mut w = crate::spreadsheet::SafeCsv::in_memory();
    w.write_record(["classification", b.classification])?;
    w.write_record(["scope", &b.scope])?;
    w.write_record(["period", &b.period])?;
    w.write_record(["from", &b.from])?;
    w.write_record(["to", &b.to])?;
    w.write_record(["small_numbers_suppressed", if b.suppressed { "yes" } else { "no" }])?;
    w.write_record(COLUMNS)?;
    for l in &b.lines {
        let recorded = l.recorded_for.map(|n| n.to_string()).unwrap_or_default();
        w.write_record([&l.key, &l.figure.text(), &value(l), &recorded, &l.label, &l.definition])?;
    }
    w.write_record(["check", "holds", "detail"])?;
    for c in &b.checks {
        w.write_record([c.what.as_str(), if c.holds { "yes" } else { "no" }, &c.detail])?;
    }
    w.into_inner().context("finishing the CSV")
}

/// The return as an XLSX workbook: a "Return" sheet with the figures (numbers as numbers) and a
/// "Checks" sheet, the marking in the first row and in every printed page's header.
///
/// # Errors
/// Only if the workbook cannot be assembled.
pub fn xlsx(b: &Built) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let header = format!("&C{}", b.classification);
    let sheet = book.add_worksheet().set_name("Return")?;
    sheet.set_header(&header);
    sheet.write_string_with_format(0, 0, b.classification, &bold)?;
    for (row, (k, v)) in [
        ("scope", b.scope.as_str()),
        ("period", &b.period),
        ("from", &b.from),
        ("to", &b.to),
        ("small_numbers_suppressed", if b.suppressed { "yes" } else { "no" }),
    ]
    .into_iter()
    .enumerate()
    {
        let row = u32::try_from(row + 1)?;
        sheet.write_string(row, 0, k)?;
        sheet.write_string(row, 1, v)?;
    }
    let top = 7;
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(top, u16::try_from(col)?, *name, &bold)?;
    }
    for (i, l) in b.lines.iter().enumerate() {
        let row = top + 1 + u32::try_from(i)?;
        sheet.write_string(row, 0, &l.key)?;
        sheet.write_string(row, 1, l.figure.text())?;
        if let Some(n) = l.figure.number() {
            sheet.write_number(row, 2, n)?;
        }
        if let Some(n) = l.recorded_for {
            sheet.write_number(row, 3, n)?;
        }
        sheet.write_string(row, 4, &l.label)?;
        sheet.write_string(row, 5, &l.definition)?;
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(4, 48)?;
    let checks = book.add_worksheet().set_name("Checks")?;
    checks.set_header(&header);
    checks.write_string_with_format(0, 0, b.classification, &bold)?;
    for (col, name) in ["check", "holds", "detail"].into_iter().enumerate() {
        checks.write_string_with_format(1, u16::try_from(col)?, name, &bold)?;
    }
    for (i, c) in b.checks.iter().enumerate() {
        let row = 2 + u32::try_from(i)?;
        checks.write_string(row, 0, &c.what)?;
        checks.write_string(row, 1, if c.holds { "yes" } else { "no" })?;
        checks.write_string(row, 2, &c.detail)?;
    }
    book.save_to_buffer().context("writing the workbook")
}
