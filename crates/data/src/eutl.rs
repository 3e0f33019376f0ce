//! Reader for the EU Transaction Log (EUTL) installation-year file
//! `eutl/eutl_installation_years.csv.gz` (source: European Commission, EUTL; CC BY 4.0).
//!
//! One row per installation (or aircraft operator) and year. The reader is strict: every column is
//! checked and turned into a typed value, and anything unexpected is reported as
//! [`DataError::Malformed`] with the file, the 1-based line (the header is line 1), the column name
//! exactly as in the header, and a reason. Empty numeric cells become `None`; the words the EUTL
//! publishes instead of numbers (`Excluded`, `Not Reported`, `Not Calculated`) become enum variants.
//!
//! The official compliance code is kept verbatim in [`EutlRow::official_code`]: it is only ever
//! reported next to a recomputed result, never used for computing.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use csv::ByteRecord;

use crate::error::DataError;

/// The expected header, column by column.
pub const EUTL_COLUMNS: [&str; 21] = [
    "id",
    "year",
    "InstallationOrAircraftOperatorID",
    "NationalAdministratorCode",
    "AccountHolderName",
    "AccountStatus",
    "InstallationNameOrAircraftOperatorCode",
    "PermitOrPlanID",
    "MainActivityTypeCode",
    "MainActivityTypeCodeLookup",
    "FirstYearOfEmissions",
    "LastYearOfEmissions",
    "ETSPhase",
    "FreeAllocations",
    "AllowanceInAllocation",
    "VerifiedEmissions",
    "UnitsSurrendered",
    "SurrenderedAllowances",
    "CumulativeVerifiedEmissions",
    "CumulativeSurrenderedUnits",
    "ComplianceCode",
];

// Column indices into `EUTL_COLUMNS`.
const ID: usize = 0;
const YEAR: usize = 1;
const INSTALLATION_ID: usize = 2;
const REGISTRY: usize = 3;
const HOLDER_NAME: usize = 4;
const ACCOUNT_STATUS: usize = 5;
const INSTALLATION_NAME: usize = 6;
const PERMIT_ID: usize = 7;
const ACTIVITY_CODE: usize = 8;
const ACTIVITY_LOOKUP: usize = 9;
const FIRST_YEAR: usize = 10;
const LAST_YEAR: usize = 11;
const PHASE: usize = 12;
const FREE_ALLOCATIONS: usize = 13;
const ALLOWANCE_IN_ALLOCATION: usize = 14;
const VERIFIED: usize = 15;
const UNITS_SURRENDERED: usize = 16;
const SURRENDERED_ALLOWANCES: usize = 17;
const CUMULATIVE_VERIFIED: usize = 18;
const CUMULATIVE_SURRENDERED: usize = 19;
const COMPLIANCE_CODE: usize = 20;

/// An EU ETS trading phase, as labelled in the `ETSPhase` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Phase 1, `2005-2007`.
    One,
    /// Phase 2, `2008-2012`.
    Two,
    /// Phase 3, `2013-2020`.
    Three,
    /// Phase 4, `2021-2030`.
    Four,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 4] = [Phase::One, Phase::Two, Phase::Three, Phase::Four];

    /// The label used in the EUTL file, e.g. `2013-2020`.
    pub fn label(self) -> &'static str {
        match self {
            Phase::One => "2005-2007",
            Phase::Two => "2008-2012",
            Phase::Three => "2013-2020",
            Phase::Four => "2021-2030",
        }
    }

    /// The phase with the given label, if it is one of the four.
    pub fn from_label(label: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.label() == label)
    }

    /// First calendar year of the phase.
    pub fn first_year(self) -> u16 {
        match self {
            Phase::One => 2005,
            Phase::Two => 2008,
            Phase::Three => 2013,
            Phase::Four => 2021,
        }
    }

    /// Last calendar year of the phase (inclusive).
    pub fn last_year(self) -> u16 {
        match self {
            Phase::One => 2007,
            Phase::Two => 2012,
            Phase::Three => 2020,
            Phase::Four => 2030,
        }
    }

    /// Whether `year` lies inside the phase.
    pub fn contains(self, year: u16) -> bool {
        (self.first_year()..=self.last_year()).contains(&year)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The `VerifiedEmissions` cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verified {
    /// Verified emissions in tonnes of CO2e.
    Tonnes(u64),
    /// The word `Excluded`.
    Excluded,
    /// The words `Not Reported`.
    NotReported,
    /// An empty cell.
    Missing,
}

impl Verified {
    /// The tonnes, if a number was published.
    pub fn tonnes(self) -> Option<u64> {
        match self {
            Verified::Tonnes(t) => Some(t),
            _ => None,
        }
    }
}

/// The `CumulativeVerifiedEmissions` cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cumulative {
    /// Cumulative verified emissions over the phase so far, in tonnes of CO2e.
    Tonnes(u64),
    /// The words `Not Calculated`.
    NotCalculated,
    /// An empty cell.
    Missing,
}

impl Cumulative {
    /// The tonnes, if a number was published.
    pub fn tonnes(self) -> Option<u64> {
        match self {
            Cumulative::Tonnes(t) => Some(t),
            _ => None,
        }
    }
}

/// One installation-year record of the EUTL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EutlRow {
    /// 1-based line of the record in the file; the header is line 1.
    pub line: u64,
    /// Registry-installation key, e.g. `AT-47` (column `id`).
    pub id: String,
    /// Calendar year (column `year`).
    pub year: u16,
    /// National registry, two uppercase letters, equal to the prefix of `id`
    /// (column `NationalAdministratorCode`).
    pub registry: String,
    /// Account holder (column `AccountHolderName`).
    pub holder_name: String,
    /// Account status as published: `open`, `closed`, `Closure Pending` (column `AccountStatus`).
    pub account_status: String,
    /// Installation name or aircraft operator code (column `InstallationNameOrAircraftOperatorCode`).
    pub installation_name: String,
    /// Main activity type code (column `MainActivityTypeCode`).
    pub activity_code: Option<u32>,
    /// First year of emissions; `0` or empty is `None` (column `FirstYearOfEmissions`).
    pub first_year_of_emissions: Option<u16>,
    /// Last year of emissions; `0` or empty is `None` (column `LastYearOfEmissions`).
    pub last_year_of_emissions: Option<u16>,
    /// Trading phase; always contains `year` (column `ETSPhase`).
    pub phase: Phase,
    /// Free allocation in allowances (column `FreeAllocations`).
    pub free_allocation: Option<u64>,
    /// Allowances in allocation (column `AllowanceInAllocation`).
    pub allowances_in_allocation: Option<u64>,
    /// Verified emissions (column `VerifiedEmissions`).
    pub verified: Verified,
    /// Units surrendered (column `UnitsSurrendered`).
    pub units_surrendered: Option<u64>,
    /// Surrendered allowances (column `SurrenderedAllowances`).
    pub surrendered_allowances: Option<u64>,
    /// Cumulative verified emissions (column `CumulativeVerifiedEmissions`).
    pub cumulative_verified: Cumulative,
    /// Cumulative surrendered units (column `CumulativeSurrenderedUnits`).
    pub cumulative_surrendered: Option<u64>,
    /// The official compliance code, verbatim (`A`, `B*`, `-`, `` ``, ...) (column `ComplianceCode`).
    /// Only for reporting; never used for computing.
    pub official_code: String,
}

/// Reads an EUTL installation-year file, gzip-compressed (one or more gzip members) or, if the file
/// does not start with the gzip magic bytes, plain CSV.
pub fn read_eutl_gz(path: &Path) -> Result<Vec<EutlRow>, DataError> {
    let name = path.display().to_string();
    let io_err = |source| DataError::Io {
        file: name.clone(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let is_gzip = reader
        .fill_buf()
        .map_err(io_err)?
        .starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        parse_eutl(&name, flate2::bufread::MultiGzDecoder::new(reader))
    } else {
        parse_eutl(&name, reader)
    }
}

/// Parses EUTL installation-year CSV from `reader`; `source_name` names the input in errors.
///
/// The header must be exactly [`EUTL_COLUMNS`]. Lines may end in LF or CRLF (the published file
/// uses CRLF). Blank lines between records are rejected; blank lines at the end are ignored.
/// Rows are returned in file order.
pub fn parse_eutl(source_name: &str, reader: impl Read) -> Result<Vec<EutlRow>, DataError> {
    // Records are terminated by `\n` only, and a `\r` before it is stripped from the last field
    // (see `strip_cr`): with the default CRLF terminator the `csv` crate reports every record after
    // a CRLF line one line too early (BurntSushi/rust-csv#395).
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_reader(reader);

    let header = csv
        .byte_headers()
        .map_err(|e| csv_error(source_name, e))?
        .clone();
    check_header(source_name, &header)?;

    let mut rows = Vec::new();
    let mut record = ByteRecord::new();
    // The line of a CRLF blank line (read as a record with the single field `\r`), reported only
    // if a record follows it.
    let mut blank_line: Option<u64> = None;
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(source_name, e))?
    {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && &record[0] == b"\r" {
            blank_line.get_or_insert(line);
            continue;
        }
        // The `csv` crate skips LF blank lines silently and then reports the record on the line of
        // the first blank one (BurntSushi/rust-csv#208); detect that from the lines consumed.
        let embedded = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        if csv.position().line() > line + embedded + 1 {
            blank_line.get_or_insert(line);
        }
        if let Some(blank) = blank_line {
            return Err(DataError::malformed(
                source_name,
                blank,
                EUTL_COLUMNS[ID],
                "unexpected blank line between records",
            ));
        }
        let row = parse_row(
            &Ctx {
                file: source_name,
                line,
            },
            &record,
        )?;
        rows.push(row);
    }
    check_unique(source_name, &rows)?;
    Ok(rows)
}

/// Rejects a second row with the same (id, year), naming the earliest repeated one. Runs after all
/// rows parsed, so a malformed field anywhere in the file is reported before a duplicate.
fn check_unique(file: &str, rows: &[EutlRow]) -> Result<(), DataError> {
    let mut seen: HashMap<(&str, u16), u64, BuildHasherDefault<FxHasher>> =
        HashMap::with_capacity_and_hasher(rows.len(), BuildHasherDefault::default());
    for row in rows {
        if let Some(first) = seen.insert((row.id.as_str(), row.year), row.line) {
            return Err(DataError::malformed(
                file,
                row.line,
                EUTL_COLUMNS[ID],
                format!(
                    "duplicate (id, year) pair (`{}`, {}); first seen on line {first}",
                    row.id, row.year
                ),
            ));
        }
    }
    Ok(())
}

/// A small, fast, non-cryptographic hasher (the multiply-rotate scheme of rustc's `FxHasher`) for
/// the duplicate check; the keys come from a data file, not from an adversary.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Converts an error of the `csv` crate. With byte records and flexible lengths only I/O errors
/// (including gzip errors) are expected; anything else is reported against the record.
fn csv_error(file: &str, err: csv::Error) -> DataError {
    let line = err.position().map_or(0, |p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Io {
            file: file.to_owned(),
            source,
        },
        other => DataError::malformed(file, line, "(record)", format!("{other:?}")),
    }
}

fn check_header(file: &str, header: &ByteRecord) -> Result<(), DataError> {
    for (i, expected) in EUTL_COLUMNS.iter().enumerate() {
        match header.get(i).map(|f| strip_cr(f, i + 1 == header.len())) {
            None => {
                return Err(DataError::malformed(
                    file,
                    1,
                    *expected,
                    format!(
                        "header has {} columns, expected {}; column `{expected}` is missing",
                        header.len(),
                        EUTL_COLUMNS.len()
                    ),
                ));
            }
            Some(found) if found != expected.as_bytes() => {
                return Err(DataError::malformed(
                    file,
                    1,
                    *expected,
                    format!(
                        "header column {} is `{}`, expected `{expected}`",
                        i + 1,
                        String::from_utf8_lossy(found)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if header.len() > EUTL_COLUMNS.len() {
        return Err(DataError::malformed(
            file,
            1,
            EUTL_COLUMNS[EUTL_COLUMNS.len() - 1],
            format!(
                "header has {} columns, expected {}; unexpected column `{}` after it",
                header.len(),
                EUTL_COLUMNS.len(),
                String::from_utf8_lossy(strip_cr(
                    &header[EUTL_COLUMNS.len()],
                    header.len() == EUTL_COLUMNS.len() + 1
                ))
            ),
        ));
    }
    Ok(())
}

/// The last field of a CRLF line still carries the `\r`; strips it when `last` is set.
fn strip_cr(field: &[u8], last: bool) -> &[u8] {
    if last {
        field.strip_suffix(b"\r").unwrap_or(field)
    } else {
        field
    }
}

/// Where a record is, for error messages.
struct Ctx<'a> {
    file: &'a str,
    line: u64,
}

impl Ctx<'_> {
    fn err(&self, col: usize, reason: impl Into<String>) -> DataError {
        DataError::malformed(self.file, self.line, EUTL_COLUMNS[col], reason)
    }

    /// The cell as UTF-8 text.
    fn text<'r>(&self, record: &'r ByteRecord, col: usize) -> Result<&'r str, DataError> {
        std::str::from_utf8(&record[col]).map_err(|e| self.err(col, format!("invalid UTF-8: {e}")))
    }

    /// An optional non-negative whole number.
    fn opt_u64(&self, record: &ByteRecord, col: usize) -> Result<Option<u64>, DataError> {
        let bytes = &record[col];
        if bytes.is_empty() {
            return Ok(None);
        }
        parse_u64(bytes)
            .map(Some)
            .map_err(|reason| self.err(col, reason))
    }

    /// An optional non-negative whole number that fits `u16`.
    fn opt_u16(&self, record: &ByteRecord, col: usize) -> Result<Option<u16>, DataError> {
        match self.opt_u64(record, col)? {
            None => Ok(None),
            Some(n) => u16::try_from(n)
                .map(Some)
                .map_err(|_| self.err(col, format!("{n} is too large for a year"))),
        }
    }
}

/// Parses a non-negative whole number made only of ASCII digits.
fn parse_u64(bytes: &[u8]) -> Result<u64, String> {
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            let text = String::from_utf8_lossy(bytes);
            return Err(
                if bytes.len() > 1 && bytes[0] == b'-' && bytes[1..].iter().all(u8::is_ascii_digit)
                {
                    format!("negative number `{text}`")
                } else {
                    format!("expected a non-negative whole number, found `{text}`")
                },
            );
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| format!("number `{}` is too large", String::from_utf8_lossy(bytes)))?;
    }
    Ok(n)
}

/// Whether `code` is one of `A B C D E X -` or empty, optionally followed by `*`
/// (a lone `*` is rejected).
fn is_valid_official_code(code: &[u8]) -> bool {
    let base = code.strip_suffix(b"*").unwrap_or(code);
    match base {
        [] => code.is_empty(),
        [c] => matches!(c, b'A' | b'B' | b'C' | b'D' | b'E' | b'X' | b'-'),
        _ => false,
    }
}

fn parse_row(ctx: &Ctx<'_>, record: &ByteRecord) -> Result<EutlRow, DataError> {
    if record.len() != EUTL_COLUMNS.len() {
        return Err(if record.len() < EUTL_COLUMNS.len() {
            ctx.err(
                record.len(),
                format!(
                    "record has {} fields, expected {}; this column is missing",
                    record.len(),
                    EUTL_COLUMNS.len()
                ),
            )
        } else {
            ctx.err(
                COMPLIANCE_CODE,
                format!(
                    "record has {} fields, expected {}; extra fields after this column",
                    record.len(),
                    EUTL_COLUMNS.len()
                ),
            )
        });
    }

    let id = ctx.text(record, ID)?;
    if id.is_empty() {
        return Err(ctx.err(ID, "empty"));
    }
    let year = ctx
        .opt_u16(record, YEAR)?
        .ok_or_else(|| ctx.err(YEAR, "empty"))?;
    ctx.text(record, INSTALLATION_ID)?;

    let registry = ctx.text(record, REGISTRY)?;
    if registry.len() != 2 || !registry.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ctx.err(
            REGISTRY,
            format!("expected two uppercase letters, found `{registry}`"),
        ));
    }
    match id.split_once('-') {
        None => return Err(ctx.err(ID, format!("`{id}` has no `-` after the registry code"))),
        Some((prefix, _)) if prefix != registry => {
            return Err(ctx.err(
                REGISTRY,
                format!("`{registry}` differs from the registry prefix `{prefix}` of id `{id}`"),
            ));
        }
        Some(_) => {}
    }

    let holder_name = ctx.text(record, HOLDER_NAME)?;
    let account_status = ctx.text(record, ACCOUNT_STATUS)?;
    let installation_name = ctx.text(record, INSTALLATION_NAME)?;
    ctx.text(record, PERMIT_ID)?;

    let activity_code = match ctx.opt_u64(record, ACTIVITY_CODE)? {
        None => None,
        Some(n) => Some(
            u32::try_from(n).map_err(|_| ctx.err(ACTIVITY_CODE, format!("{n} is too large")))?,
        ),
    };
    ctx.text(record, ACTIVITY_LOOKUP)?;

    let first_year_of_emissions = ctx.opt_u16(record, FIRST_YEAR)?.filter(|&y| y != 0);
    let last_year_of_emissions = ctx.opt_u16(record, LAST_YEAR)?.filter(|&y| y != 0);

    let phase_text = ctx.text(record, PHASE)?;
    let phase = Phase::from_label(phase_text).ok_or_else(|| {
        ctx.err(
            PHASE,
            format!(
                "unknown phase `{phase_text}`; expected 2005-2007, 2008-2012, 2013-2020 or 2021-2030"
            ),
        )
    })?;
    if !phase.contains(year) {
        return Err(ctx.err(PHASE, format!("phase {phase} does not contain year {year}")));
    }

    let free_allocation = ctx.opt_u64(record, FREE_ALLOCATIONS)?;
    let allowances_in_allocation = ctx.opt_u64(record, ALLOWANCE_IN_ALLOCATION)?;

    let verified = match &record[VERIFIED] {
        b"" => Verified::Missing,
        b"Excluded" => Verified::Excluded,
        b"Not Reported" => Verified::NotReported,
        bytes => Verified::Tonnes(parse_u64(bytes).map_err(|reason| {
            ctx.err(
                VERIFIED,
                format!("{reason}; or the words `Excluded` / `Not Reported`"),
            )
        })?),
    };

    let units_surrendered = ctx.opt_u64(record, UNITS_SURRENDERED)?;
    let surrendered_allowances = ctx.opt_u64(record, SURRENDERED_ALLOWANCES)?;

    let cumulative_verified = match &record[CUMULATIVE_VERIFIED] {
        b"" => Cumulative::Missing,
        b"Not Calculated" => Cumulative::NotCalculated,
        bytes => Cumulative::Tonnes(parse_u64(bytes).map_err(|reason| {
            ctx.err(
                CUMULATIVE_VERIFIED,
                format!("{reason}; or the words `Not Calculated`"),
            )
        })?),
    };
    let cumulative_surrendered = ctx.opt_u64(record, CUMULATIVE_SURRENDERED)?;

    let code = strip_cr(&record[COMPLIANCE_CODE], true);
    if !is_valid_official_code(code) {
        return Err(ctx.err(
            COMPLIANCE_CODE,
            format!(
                "unknown compliance code `{}`; expected A, B, C, D, E, X, - or empty, \
                 optionally followed by `*`",
                String::from_utf8_lossy(code)
            ),
        ));
    }
    // Valid codes are ASCII.
    let official_code = String::from_utf8_lossy(code).into_owned();

    Ok(EutlRow {
        line: ctx.line,
        id: id.to_owned(),
        year,
        registry: registry.to_owned(),
        holder_name: holder_name.to_owned(),
        account_status: account_status.to_owned(),
        installation_name: installation_name.to_owned(),
        activity_code,
        first_year_of_emissions,
        last_year_of_emissions,
        phase,
        free_allocation,
        allowances_in_allocation,
        verified,
        units_surrendered,
        surrendered_allowances,
        cumulative_verified,
        cumulative_surrendered,
        official_code,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    const HEADER: &str = "id,year,InstallationOrAircraftOperatorID,NationalAdministratorCode,\
AccountHolderName,AccountStatus,InstallationNameOrAircraftOperatorCode,PermitOrPlanID,\
MainActivityTypeCode,MainActivityTypeCodeLookup,FirstYearOfEmissions,LastYearOfEmissions,ETSPhase,\
FreeAllocations,AllowanceInAllocation,VerifiedEmissions,UnitsSurrendered,SurrenderedAllowances,\
CumulativeVerifiedEmissions,CumulativeSurrenderedUnits,ComplianceCode";

    const ROW_AT47: &str = "AT-47,2005,47,AT,AGRANA Stärke GmbH,open,AGRANA Gmünd,ILE166,20,\
Combustion of fuels,2005,0,2005-2007,32566,32566,36722,36722,36722,36722,36722,A";

    const ROW_FR: &str = "FR-123,2014,123,FR,\"Société X, SA\",Closure Pending,\"Usine \"\"Nord\"\"\",\
P-9,,\"Combustion of fuels, other\",,2019,2013-2020,,7,Excluded,,0,Not Calculated,,B*";

    const ROW_SE: &str = "SE-9,2021,9,SE,Holder,closed,Plant,P,1,Lookup,2021,2022,2021-2030,1,2,Not Reported,3,4,5,6,";

    fn csv_of(rows: &[&str]) -> String {
        let mut s = String::from(HEADER);
        for row in rows {
            s.push('\n');
            s.push_str(row);
        }
        s.push('\n');
        s
    }

    fn parse_str(text: &str) -> Result<Vec<EutlRow>, DataError> {
        parse_eutl("test.csv", text.as_bytes())
    }

    /// Parses `rows` and expects a `Malformed` error; returns (line, field, reason).
    fn malformed(rows: &[&str]) -> (u64, String, String) {
        match parse_str(&csv_of(rows)) {
            Err(DataError::Malformed {
                file,
                line,
                field,
                reason,
            }) => {
                assert_eq!(file, "test.csv");
                (line, field, reason)
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// `ROW_AT47` with column `col` replaced by `value`.
    fn at47_with(col: usize, value: &str) -> String {
        let mut cells: Vec<&str> = ROW_AT47.split(',').collect();
        cells[col] = value;
        cells.join(",")
    }

    #[test]
    fn parses_typed_fields() {
        let rows = parse_str(&csv_of(&[ROW_AT47, ROW_FR, ROW_SE])).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            EutlRow {
                line: 2,
                id: "AT-47".into(),
                year: 2005,
                registry: "AT".into(),
                holder_name: "AGRANA Stärke GmbH".into(),
                account_status: "open".into(),
                installation_name: "AGRANA Gmünd".into(),
                activity_code: Some(20),
                first_year_of_emissions: Some(2005),
                last_year_of_emissions: None,
                phase: Phase::One,
                free_allocation: Some(32566),
                allowances_in_allocation: Some(32566),
                verified: Verified::Tonnes(36722),
                units_surrendered: Some(36722),
                surrendered_allowances: Some(36722),
                cumulative_verified: Cumulative::Tonnes(36722),
                cumulative_surrendered: Some(36722),
                official_code: "A".into(),
            }
        );
        assert_eq!(
            rows[1],
            EutlRow {
                line: 3,
                id: "FR-123".into(),
                year: 2014,
                registry: "FR".into(),
                holder_name: "Société X, SA".into(),
                account_status: "Closure Pending".into(),
                installation_name: "Usine \"Nord\"".into(),
                activity_code: None,
                first_year_of_emissions: None,
                last_year_of_emissions: Some(2019),
                phase: Phase::Three,
                free_allocation: None,
                allowances_in_allocation: Some(7),
                verified: Verified::Excluded,
                units_surrendered: None,
                surrendered_allowances: Some(0),
                cumulative_verified: Cumulative::NotCalculated,
                cumulative_surrendered: None,
                official_code: "B*".into(),
            }
        );
        let se = &rows[2];
        assert_eq!(se.line, 4);
        assert_eq!(se.phase, Phase::Four);
        assert_eq!(se.verified, Verified::NotReported);
        assert_eq!(se.cumulative_verified, Cumulative::Tonnes(5));
        assert_eq!(se.official_code, "");
        assert_eq!(se.account_status, "closed");
    }

    #[test]
    fn crlf_lines_are_numbered_like_lf_lines() {
        let lf = csv_of(&[ROW_AT47, ROW_FR, ROW_SE]);
        let crlf = lf.replace('\n', "\r\n");
        let from_lf = parse_str(&lf).unwrap();
        let from_crlf = parse_str(&crlf).unwrap();
        assert_eq!(from_lf, from_crlf);
        let lines: Vec<u64> = from_crlf.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert_eq!(from_crlf[1].official_code, "B*");
        assert_eq!(from_crlf[2].official_code, "");

        // Errors on CRLF input name the right line too.
        let text = csv_of(&[ROW_AT47, ROW_SE, ROW_AT47]).replace('\n', "\r\n");
        assert!(matches!(
            parse_str(&text),
            Err(DataError::Malformed { line: 4, ref field, .. }) if field == "id"
        ));
        // No final line break.
        let rows = parse_str(crlf.trim_end()).unwrap();
        assert_eq!(rows[2].official_code, "");
        assert_eq!(rows[2].line, 4);
    }

    #[test]
    fn blank_lines_between_records_are_rejected_trailing_ones_ignored() {
        for eol in ["\n", "\r\n"] {
            let text = csv_of(&[ROW_AT47, "", ROW_SE]).replace('\n', eol);
            match parse_str(&text) {
                Err(DataError::Malformed {
                    line,
                    field,
                    reason,
                    ..
                }) => {
                    assert_eq!((line, field.as_str()), (3, "id"), "{eol:?}");
                    assert_eq!(reason, "unexpected blank line between records");
                }
                other => panic!("expected Malformed, got {other:?}"),
            }
            let text = format!(
                "{}{eol}{eol}",
                csv_of(&[ROW_AT47, ROW_SE]).replace('\n', eol)
            );
            let rows = parse_str(&text).unwrap();
            assert_eq!(rows.len(), 2, "{eol:?}");
            assert_eq!(rows[1].line, 3);
        }
    }

    #[test]
    fn empty_verified_and_cumulative_are_missing() {
        let row = at47_with(VERIFIED, "");
        let row = row.replacen(",36722,36722,36722,36722,A", ",36722,36722,,36722,-", 1);
        let rows = parse_str(&csv_of(&[&row])).unwrap();
        assert_eq!(rows[0].verified, Verified::Missing);
        assert_eq!(rows[0].cumulative_verified, Cumulative::Missing);
        assert_eq!(rows[0].official_code, "-");
    }

    #[test]
    fn non_numeric_verified_is_reported_with_line_and_field() {
        let bad = at47_with(VERIFIED, "lots").replace("AT-47", "AT-48");
        let err = parse_str(&csv_of(&[ROW_AT47, &bad])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.csv:3: field `VerifiedEmissions`: expected a non-negative whole number, found \
             `lots`; or the words `Excluded` / `Not Reported`"
        );
        assert!(matches!(
            err,
            DataError::Malformed { line: 3, ref field, .. } if field == "VerifiedEmissions"
        ));
    }

    #[test]
    fn negative_free_allocation() {
        let (line, field, reason) = malformed(&[&at47_with(FREE_ALLOCATIONS, "-5")]);
        assert_eq!((line, field.as_str()), (2, "FreeAllocations"));
        assert_eq!(reason, "negative number `-5`");
    }

    #[test]
    fn unknown_words_and_bad_numbers() {
        let (_, field, _) = malformed(&[&at47_with(VERIFIED, "Excluded ")]);
        assert_eq!(field, "VerifiedEmissions");
        let (_, field, _) = malformed(&[&at47_with(CUMULATIVE_VERIFIED, "Not Reported")]);
        assert_eq!(field, "CumulativeVerifiedEmissions");
        let (_, field, _) = malformed(&[&at47_with(UNITS_SURRENDERED, "1.5")]);
        assert_eq!(field, "UnitsSurrendered");
        let (_, field, reason) =
            malformed(&[&at47_with(CUMULATIVE_SURRENDERED, "99999999999999999999")]);
        assert_eq!(field, "CumulativeSurrenderedUnits");
        assert!(reason.contains("too large"), "{reason}");
        let (_, field, _) = malformed(&[&at47_with(YEAR, "")]);
        assert_eq!(field, "year");
    }

    #[test]
    fn unknown_phase_label() {
        let (line, field, reason) = malformed(&[&at47_with(PHASE, "2005-2008")]);
        assert_eq!((line, field.as_str()), (2, "ETSPhase"));
        assert!(reason.contains("unknown phase `2005-2008`"), "{reason}");
    }

    #[test]
    fn year_outside_phase() {
        let (line, field, reason) = malformed(&[ROW_AT47, &at47_with(YEAR, "2008")]);
        assert_eq!((line, field.as_str()), (3, "ETSPhase"));
        assert_eq!(reason, "phase 2005-2007 does not contain year 2008");
    }

    #[test]
    fn registry_prefix_mismatch() {
        let (line, field, reason) = malformed(&[&at47_with(REGISTRY, "BE")]);
        assert_eq!((line, field.as_str()), (2, "NationalAdministratorCode"));
        assert_eq!(
            reason,
            "`BE` differs from the registry prefix `AT` of id `AT-47`"
        );
        let (_, field, _) = malformed(&[&at47_with(REGISTRY, "at")]);
        assert_eq!(field, "NationalAdministratorCode");
        let (_, field, _) = malformed(&[&at47_with(ID, "AT47")]);
        assert_eq!(field, "id");
    }

    #[test]
    fn wrong_header() {
        let text = csv_of(&[ROW_AT47]).replacen("FreeAllocations", "FreeAllocation", 1);
        match parse_str(&text) {
            Err(DataError::Malformed {
                line: 1,
                field,
                reason,
                ..
            }) => {
                assert_eq!(field, "FreeAllocations");
                assert_eq!(
                    reason,
                    "header column 14 is `FreeAllocation`, expected `FreeAllocations`"
                );
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        let text = csv_of(&[ROW_AT47]).replacen(",ComplianceCode", "", 1);
        assert!(matches!(
            parse_str(&text),
            Err(DataError::Malformed { line: 1, ref field, .. }) if field == "ComplianceCode"
        ));
        assert!(matches!(
            parse_str(""),
            Err(DataError::Malformed { line: 1, ref field, .. }) if field == "id"
        ));
    }

    #[test]
    fn duplicate_id_year() {
        let (line, field, reason) = malformed(&[ROW_AT47, ROW_SE, ROW_AT47]);
        assert_eq!((line, field.as_str()), (4, "id"));
        assert_eq!(
            reason,
            "duplicate (id, year) pair (`AT-47`, 2005); first seen on line 2"
        );
    }

    #[test]
    fn wrong_number_of_columns() {
        let short = ROW_AT47.rsplit_once(',').unwrap().0;
        let (line, field, reason) = malformed(&[ROW_SE, short]);
        assert_eq!((line, field.as_str()), (3, "ComplianceCode"));
        assert_eq!(
            reason,
            "record has 20 fields, expected 21; this column is missing"
        );
        let long = format!("{ROW_AT47},x");
        let (line, field, _) = malformed(&[&long]);
        assert_eq!((line, field.as_str()), (2, "ComplianceCode"));
    }

    #[test]
    fn bad_official_code() {
        for code in ["F", "AA", "*", "A**", "a", " A"] {
            let (line, field, reason) = malformed(&[&at47_with(COMPLIANCE_CODE, code)]);
            assert_eq!((line, field.as_str()), (2, "ComplianceCode"), "{code}");
            assert!(reason.starts_with("unknown compliance code"), "{reason}");
        }
        for code in ["A", "A*", "B", "C*", "D", "E*", "X", "X*", "-", "-*", ""] {
            let rows = parse_str(&csv_of(&[&at47_with(COMPLIANCE_CODE, code)])).unwrap();
            assert_eq!(rows[0].official_code, code);
        }
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let mut bytes = csv_of(&[ROW_AT47]).into_bytes();
        let pos = bytes.windows(6).position(|w| w == b"AGRANA").unwrap();
        bytes[pos] = 0xff;
        match parse_eutl("bytes", bytes.as_slice()) {
            Err(DataError::Malformed { line: 2, field, .. }) => {
                assert_eq!(field, "AccountHolderName");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn reads_plain_and_multi_member_gzip_files() {
        let dir = std::env::temp_dir().join(format!("yrd-data-eutl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let plain = dir.join("plain.csv");
        std::fs::write(&plain, csv_of(&[ROW_AT47, ROW_SE])).unwrap();
        let rows = read_eutl_gz(&plain).unwrap();
        assert_eq!(rows.len(), 2);

        // Two gzip members: header + first row, then the second row.
        let gz = dir.join("two.csv.gz");
        let mut bytes = Vec::new();
        for part in [format!("{HEADER}\n{ROW_AT47}\n"), format!("{ROW_SE}\n")] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part.as_bytes()).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        std::fs::write(&gz, &bytes).unwrap();
        let rows = read_eutl_gz(&gz).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].id, "SE-9");
        assert_eq!(rows[1].line, 3);

        // A truncated gzip stream is an I/O error, not silently fewer rows.
        let cut = dir.join("cut.csv.gz");
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        assert!(matches!(read_eutl_gz(&cut), Err(DataError::Io { .. })));

        assert!(matches!(
            read_eutl_gz(&dir.join("absent.csv.gz")),
            Err(DataError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn shared_file() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/eutl/eutl_installation_years.csv.gz")
    }

    #[test]
    fn reads_the_real_eutl_file() {
        let path = shared_file();
        assert!(
            path.exists(),
            "shared EUTL file not found at {}",
            path.display()
        );
        let start = std::time::Instant::now();
        let rows = read_eutl_gz(&path).unwrap();
        let elapsed = start.elapsed();
        eprintln!("parsed {} EUTL rows in {elapsed:?}", rows.len());

        assert_eq!(rows.len(), 109_495);
        let ids: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 8_269);
        let registries: HashSet<&str> = rows.iter().map(|r| r.registry.as_str()).collect();
        assert_eq!(registries.len(), 17);
        let count = |f: &dyn Fn(&EutlRow) -> bool| rows.iter().filter(|r| f(r)).count();
        assert_eq!(count(&|r| r.verified == Verified::Excluded), 5_977);
        assert_eq!(count(&|r| r.verified == Verified::NotReported), 1_179);
        assert_eq!(count(&|r| r.verified == Verified::Missing), 5_480);
        assert_eq!(
            count(&|r| r.cumulative_verified == Cumulative::NotCalculated),
            3_165
        );

        let first = &rows[0];
        assert_eq!(first.line, 2);
        assert_eq!(first.id, "AT-47");
        assert_eq!(first.year, 2005);
        assert_eq!(first.registry, "AT");
        assert_eq!(first.phase, Phase::One);
        assert_eq!(first.free_allocation, Some(32_566));
        assert_eq!(first.verified, Verified::Tonnes(36_722));
        assert_eq!(first.official_code, "A");
        // No field spans lines, so record i is on line i + 2.
        assert!(rows.iter().zip(2u64..).all(|(r, line)| r.line == line));
    }
}
