//! Every CSV the product writes goes through [`SafeCsv`], which neutralises cells a spreadsheet
//! would read as a formula (OWASP's rule): a cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return gets a leading `'`, so a Marac named `=HYPERLINK(...)` is shown, never run.
//! A cell that is a number as written (`-3`, `+4.5`) is left alone.

use std::borrow::Cow;
use std::io::Write;

/// A cell as a spreadsheet may safely read it.
#[must_use]
pub fn safe_cell(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// A CSV writer whose every cell is [`safe_cell`].
pub struct SafeCsv<W: Write>(csv::Writer<W>);

impl SafeCsv<Vec<u8>> {
    /// A writer into memory; rows may have different lengths.
    #[must_use]
    pub fn in_memory() -> Self {
        SafeCsv(csv::WriterBuilder::new().flexible(true).from_writer(Vec::new()))
    }
}

impl<W: Write> SafeCsv<W> {
    /// Writes one row.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record.into_iter().map(|c| safe_cell(c.as_ref()).into_owned()).collect();
        self.0.write_record(&cells)
    }

    /// Finishes writing and gives back what was written to.
    ///
    /// # Errors
    /// The writer's, flushing.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.0.into_inner().map_err(csv::IntoInnerError::into_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for risky in
            ["=HYPERLINK(\"http://evil.example/?x\",\"Eastport\")", "+cmd", "-2+3|calc", "@SUM(A1)", "\tx", "\rx"]
        {
            assert_eq!(safe_cell(risky), format!("'{risky}"));
        }
        for plain in ["Eastport", "-3", "+4.5", "12", "", "a=b"] {
            assert_eq!(safe_cell(plain), plain);
        }
        let mut w = SafeCsv::in_memory();
        w.write_record(["scope", "=1+1"]).unwrap();
        assert_eq!(String::from_utf8(w.into_inner().unwrap()).unwrap(), "scope,'=1+1\n");
    }
}
