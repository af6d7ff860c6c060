//! Documents people download, edit and circulate (the minutes and the action tracker; later
//! the board pack and subject access exports): an outline of headings, paragraphs and tables,
//! written as a Word document by `docx-rs`, every page marked in its header and footer.
//!
//! The outline holds text only; what goes into it, and who may have it, is the caller's
//! business (the pages check access and audit each download before building one).

use docx_rs::{BreakType, Docx, Footer, Header, Paragraph, Run, Style, StyleType, Table, TableCell, TableRow};

/// The protective marking every exported document carries.
pub const MARKING: &str = "OFFICIAL-SENSITIVE";

/// One part of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A heading: level 1 (the title) to 3.
    Heading(u8, String),
    /// A paragraph; its line breaks are kept.
    Paragraph(String),
    /// A table with a header row.
    Table {
        /// The columns' headings.
        header: Vec<String>,
        /// The rows, each as many cells as the header.
        rows: Vec<Vec<String>>,
    },
}

/// A document to export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Its parts, in order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// A document whose first part is `title` as its heading.
    #[must_use]
    pub fn titled(title: impl Into<String>) -> Self {
        Self { blocks: vec![Block::Heading(1, title.into())] }
    }

    /// Adds a heading (level 2 or 3).
    pub fn heading(&mut self, level: u8, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Heading(level.clamp(1, 3), text.into()));
        self
    }

    /// Adds a paragraph, unless `text` is empty.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Self {
        let text = text.into();
        if !text.trim().is_empty() {
            self.blocks.push(Block::Paragraph(text));
        }
        self
    }

    /// Adds a table; a table without rows says "None." instead.
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) -> &mut Self {
        if rows.is_empty() {
            return self.paragraph("None.");
        }
        self.blocks.push(Block::Table { header: header.iter().map(|h| (*h).to_owned()).collect(), rows });
        self
    }

    /// The document as a `.docx` file, marked [`MARKING`] at the top and foot of every page.
    ///
    /// # Errors
    /// When the file cannot be written (it is written in memory, so only on a bug).
    pub fn to_docx(&self) -> anyhow::Result<Vec<u8>> {
        let marking = || Paragraph::new().add_run(Run::new().add_text(MARKING).bold());
        let mut docx = Docx::new()
            .header(Header::new().add_paragraph(marking()))
            .footer(Footer::new().add_paragraph(marking()))
            .add_style(heading_style(1, 32))
            .add_style(heading_style(2, 28))
            .add_style(heading_style(3, 24));
        for block in &self.blocks {
            docx = match block {
                Block::Heading(level, text) => docx.add_paragraph(
                    Paragraph::new().style(&format!("Heading{level}")).add_run(Run::new().add_text(text)),
                ),
                Block::Paragraph(text) => docx.add_paragraph(lines(text, false)),
                Block::Table { header, rows } => {
                    let row = |cells: &[String], bold: bool| {
                        TableRow::new(cells.iter().map(|c| TableCell::new().add_paragraph(lines(c, bold))).collect())
                    };
                    let mut all = vec![row(header, true)];
                    all.extend(rows.iter().map(|r| row(r, false)));
                    docx.add_table(Table::new(all))
                }
            };
        }
        let mut out = std::io::Cursor::new(Vec::new());
        docx.build().pack(&mut out)?;
        Ok(out.into_inner())
    }
}

/// A paragraph of `text` with its line breaks kept.
fn lines(text: &str, bold: bool) -> Paragraph {
    let mut run = Run::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    Paragraph::new().add_run(if bold { run.bold() } else { run })
}

fn heading_style(level: u8, half_points: usize) -> Style {
    Style::new(format!("Heading{level}"), StyleType::Paragraph)
        .name(format!("Heading {level}"))
        .size(half_points)
        .bold()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_back_with_its_text_and_its_marking() {
        let mut d = Document::titled("Minutes: Eastport Marac, 6 December 2026");
        d.heading(2, "Cases").paragraph("Two call-outs.\nShe wants to stay.").paragraph("  ");
        d.table(&["Agency", "Action"], vec![vec!["Police".into(), "Flag the address".into()]]);
        d.table(&["Agency"], Vec::new());
        assert_eq!(d.blocks.len(), 5, "the empty paragraph is left out; the empty table says None.");
        let bytes = d.to_docx().unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip, as every .docx is");
        let back = docx_rs::read_docx(&bytes).unwrap().json();
        for text in [
            "Minutes: Eastport Marac, 6 December 2026",
            "Two call-outs.",
            "She wants to stay.",
            "Flag the address",
            "None.",
            MARKING,
        ] {
            assert!(back.contains(text), "{text} read back");
        }
    }
}
