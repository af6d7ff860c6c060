//! `marac linkage dedupe|link`: the person matcher on CSV files, for measuring it against the
//! benchmark data. Output is `id_a,id_b,score`, one predicted match per row; the matcher picks
//! its own threshold.

use anyhow::Context;
use clap::Subcommand;
use marac_linkage::Record;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Linkage subcommands.
#[derive(Debug, Subcommand)]
pub enum LinkageCommand {
    /// Pairs of records in one file that are the same person.
    Dedupe {
        /// Input CSV (`rec_id,given_name,surname,…`).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the pairs.
        #[arg(long)]
        output: PathBuf,
    },
    /// Pairs across two files that are the same person.
    Link {
        /// The left file.
        #[arg(long)]
        left: PathBuf,
        /// The right file.
        #[arg(long)]
        right: PathBuf,
        /// Where to write the pairs.
        #[arg(long)]
        output: PathBuf,
    },
    /// A synthetic list with known duplicates, for measuring the matcher at any size.
    Generate {
        /// How many records.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// The seed: the same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the records.
        #[arg(long)]
        output: PathBuf,
        /// Where to write the true pairs (`id_a,id_b`).
        #[arg(long)]
        truth: PathBuf,
    },
}

/// The benchmark files' columns, in order.
const COLUMNS: [&str; 11] = [
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
];

fn read(path: &Path) -> anyhow::Result<Vec<Record>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader.headers().with_context(|| format!("{}: no header", path.display()))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| column(c)).collect();
    if cols[0].is_none() {
        anyhow::bail!("{}: line 1: the header has no rec_id column", path.display());
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let get = |k: usize| cols[k].and_then(|c| row.get(c)).unwrap_or("").to_owned();
        out.push(Record {
            id: get(0),
            given_name: get(1),
            surname: get(2),
            street_number: get(3),
            address_1: get(4),
            address_2: get(5),
            suburb: get(6),
            postcode: get(7),
            state: get(8),
            date_of_birth: get(9),
            national_id: get(10),
        });
    }
    Ok(out)
}

fn write_records(path: &Path, records: &[Record]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(COLUMNS)?;
    for r in records {
        w.write_record([
            &r.id,
            &r.given_name,
            &r.surname,
            &r.street_number,
            &r.address_1,
            &r.address_2,
            &r.suburb,
            &r.postcode,
            &r.state,
            &r.date_of_birth,
            &r.national_id,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write(path: &Path, left: &[Record], right: &[Record], matches: &[marac_linkage::Match]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["id_a", "id_b", "score"])?;
    for m in matches {
        w.write_record([left[m.a].id.as_str(), right[m.b].id.as_str(), &format!("{:.4}", m.probability)])?;
    }
    w.flush()?;
    Ok(())
}

/// Runs a linkage subcommand.
pub fn run(command: LinkageCommand) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (count, records, pairs) = match command {
        LinkageCommand::Dedupe { input, output } => {
            let records = read(&input)?;
            let matches = marac_linkage::dedupe(&records);
            write(&output, &records, &records, &matches)?;
            (matches.len(), records.len(), output)
        }
        LinkageCommand::Generate { records, seed, output, truth } => {
            let (list, pairs) = marac_linkage::generate::generate(records, seed);
            write_records(&output, &list)?;
            let mut w = csv::Writer::from_path(&truth).with_context(|| format!("cannot write {}", truth.display()))?;
            w.write_record(["id_a", "id_b"])?;
            for (a, b) in &pairs {
                w.write_record([list[*a].id.as_str(), list[*b].id.as_str()])?;
            }
            w.flush()?;
            (pairs.len(), list.len(), truth)
        }
        LinkageCommand::Link { left, right, output } => {
            let (l, r) = (read(&left)?, read(&right)?);
            let matches = marac_linkage::link(&l, &r);
            write(&output, &l, &r, &matches)?;
            (matches.len(), l.len() + r.len(), output)
        }
    };
    eprintln!(
        "{count} matching pairs among {records} records written to {} in {:.2} s",
        pairs.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
