//! CEADs provincial CO2 inventories for the Yangtze River Delta, cut down to the sectors an ETS
//! covers.
//!
//! The input is `data/ceads/yrd_2019_covered_sectors.csv` (see `data/ceads/README.md` for source,
//! attribution and how it was extracted): one row per jurisdiction and covered sector with the
//! sector's 2019 Scope 1 emissions in Mt CO2, copied verbatim from the CEADs text. The reader turns
//! each row into a [`SectorEmissions`] in whole tonnes CO2 by exact decimal arithmetic, see
//! [`mt_to_tonnes`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use yrd_types::{JurisdictionCode, Vintage};

use crate::DataError;

/// The committed extract: 2019 Scope 1 emissions (Mt CO2) of the seven covered sectors in the four
/// YRD jurisdictions, 28 rows. Parse it with [`parse_covered_sectors`].
pub const COVERED_SECTORS_2019: &str =
    include_str!("../../../data/ceads/yrd_2019_covered_sectors.csv");

/// The source name to use with [`COVERED_SECTORS_2019`] in error messages.
pub const COVERED_SECTORS_2019_NAME: &str = "data/ceads/yrd_2019_covered_sectors.csv";

/// The four YRD jurisdictions: code and the province name CEADs uses.
pub const JURISDICTIONS: [(&str, &str); 4] = [
    ("CN-SH", "Shanghai"),
    ("CN-JS", "Jiangsu"),
    ("CN-ZJ", "Zhejiang"),
    ("CN-AH", "Anhui"),
];

/// The covered sectors (China national ETS plus its announced expansion): our sector code and the
/// CEADs sector it stands for. The codes are shorthand: `CEMENT` is all of CEADs' nonmetal mineral
/// products (cement, glass, ceramics...) and `ALUMINIUM` all nonferrous smelting.
pub const COVERED_SECTORS: [(&str, &str); 7] = [
    (
        "POWER",
        "Production and Supply of Electric Power, Steam and Hot Water",
    ),
    ("STEEL", "Smelting and Pressing of Ferrous Metals"),
    ("CEMENT", "Nonmetal Mineral Products"),
    ("ALUMINIUM", "Smelting and Pressing of Nonferrous Metals"),
    ("CHEMICALS", "Raw Chemical Materials and Chemical Products"),
    ("PETROCHEM", "Petroleum Processing and Coking"),
    ("PAPER", "Papermaking and Paper Products"),
];

/// One covered sector's verified (inventory) emissions in one jurisdiction and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorEmissions {
    /// `CN-SH`, `CN-JS`, `CN-ZJ` or `CN-AH`.
    pub jurisdiction: JurisdictionCode,
    /// Our sector code, e.g. `POWER` (see [`COVERED_SECTORS`]).
    pub sector_code: String,
    /// The CEADs sector name the code stands for.
    pub ceads_sector: String,
    /// Inventory year.
    pub year: u16,
    /// Scope 1 emissions in whole tonnes CO2 (converted from Mt by [`mt_to_tonnes`]).
    pub total_t: u64,
}

/// The columns the file must have (any order; extra columns are ignored).
const COLUMNS: [&str; 6] = [
    "jurisdiction",
    "province",
    "sector_code",
    "ceads_sector",
    "year",
    "mt_co2",
];

/// One raw CSV row, borrowed from the record.
#[derive(Deserialize)]
struct RawRow<'a> {
    jurisdiction: &'a str,
    province: &'a str,
    sector_code: &'a str,
    ceads_sector: &'a str,
    year: &'a str,
    mt_co2: &'a str,
}

/// Reads a covered-sectors file from disk; see [`parse_covered_sectors`].
pub fn load_covered_sectors(path: &Path) -> Result<Vec<SectorEmissions>, DataError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        file: name.clone(),
        source,
    })?;
    parse_covered_sectors(&name, &text)
}

/// Parses a covered-sectors CSV (columns `jurisdiction,province,sector_code,ceads_sector,year,mt_co2`)
/// into one [`SectorEmissions`] per row, in file order.
///
/// `source_name` is used only in error messages. Fields are trimmed of surrounding whitespace.
/// Every row is checked: the jurisdiction must be one of [`JURISDICTIONS`] and the province must
/// be its name; the sector code must be one of [`COVERED_SECTORS`] and `ceads_sector` its CEADs
/// name; the year must be 1990-2200; `mt_co2` must be a plain non-negative decimal (Mt CO2),
/// converted to tonnes by [`mt_to_tonnes`]; a (jurisdiction, sector, year) may appear only once.
/// The first violation is returned as [`DataError::Malformed`] with its line number (the header is
/// line 1); a missing column is reported on line 1.
pub fn parse_covered_sectors(
    source_name: &str,
    text: &str,
) -> Result<Vec<SectorEmissions>, DataError> {
    let malformed = |line: u64, field: &str, reason: String| {
        DataError::malformed(source_name, line, field, reason)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut lines = LineCounter::new(text);
    let headers = reader
        .headers()
        .map_err(|e| malformed(1, "(header)", e.to_string()))?
        .clone();
    let header_line = headers
        .position()
        .map_or(1, |p| lines.line_of_record_at(p.byte()));
    for column in COLUMNS {
        if !headers.iter().any(|h| h == column) {
            return Err(malformed(header_line, column, "missing column".to_string()));
        }
    }

    let mut seen: BTreeMap<(String, String, u16), u64> = BTreeMap::new();
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| lines.line_of_record_at(p.byte()));
                return Err(malformed(line, "(record)", e.to_string()));
            }
        }
        let line = record
            .position()
            .map_or(0, |p| lines.line_of_record_at(p.byte()));
        if record.len() < headers.len() {
            let missing = headers.get(record.len()).unwrap_or("(record)");
            let reason = format!(
                "missing value (row has {} fields, header has {})",
                record.len(),
                headers.len()
            );
            return Err(malformed(line, missing, reason));
        }
        if record.len() > headers.len() {
            let reason = format!(
                "row has {} fields, header has {}",
                record.len(),
                headers.len()
            );
            return Err(malformed(line, "(record)", reason));
        }
        let row: RawRow<'_> = record
            .deserialize(Some(&headers))
            .map_err(|e| malformed(line, "(record)", e.to_string()))?;
        out.push(check_row(&row, line, &malformed, &mut seen)?);
    }
    Ok(out)
}

/// Maps the byte offsets the csv reader reports to 1-based line numbers.
///
/// The csv crate's own `Position::line` is unreliable here: it lags after blank lines and
/// miscounts CRLF files. Its byte offset is the point where it started reading the record, which
/// can be just before the line breaks it skipped, so those are skipped here too and the line breaks
/// before the record's first character are counted (`\n`, `\r\n` and a lone `\r` each end a line).
struct LineCounter<'a> {
    text: &'a [u8],
    /// Offset counted up to so far, and the line it is on.
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record the reader started reading at byte `byte`.
    fn line_of_record_at(&mut self, byte: u64) -> u64 {
        let len = self.text.len();
        let mut start = usize::try_from(byte).unwrap_or(len).min(len);
        while start < len && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        for i in self.offset..start {
            let ends_line = match self.text[i] {
                b'\n' => true,
                b'\r' => self.text.get(i + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                self.line += 1;
            }
        }
        self.offset = start;
        self.line
    }
}

/// Validates one raw row and converts it.
fn check_row(
    row: &RawRow<'_>,
    line: u64,
    malformed: &dyn Fn(u64, &str, String) -> DataError,
    seen: &mut BTreeMap<(String, String, u16), u64>,
) -> Result<SectorEmissions, DataError> {
    let Some(&(code, province)) = JURISDICTIONS.iter().find(|(c, _)| *c == row.jurisdiction) else {
        let reason = format!(
            "unknown jurisdiction code {:?} (expected one of CN-SH, CN-JS, CN-ZJ, CN-AH)",
            row.jurisdiction
        );
        return Err(malformed(line, "jurisdiction", reason));
    };
    let jurisdiction =
        JurisdictionCode::new(code).map_err(|e| malformed(line, "jurisdiction", e.to_string()))?;
    if row.province != province {
        let reason = format!(
            "{:?} does not match jurisdiction {code} ({province})",
            row.province
        );
        return Err(malformed(line, "province", reason));
    }
    let Some(&(sector_code, ceads_sector)) =
        COVERED_SECTORS.iter().find(|(c, _)| *c == row.sector_code)
    else {
        let known: Vec<&str> = COVERED_SECTORS.iter().map(|(c, _)| *c).collect();
        let reason = format!(
            "unknown sector code {:?} (expected one of {})",
            row.sector_code,
            known.join(", ")
        );
        return Err(malformed(line, "sector_code", reason));
    };
    if row.ceads_sector != ceads_sector {
        let reason = format!(
            "{:?} is not the CEADs sector for {sector_code} ({ceads_sector:?})",
            row.ceads_sector
        );
        return Err(malformed(line, "ceads_sector", reason));
    }
    let year: u16 = row
        .year
        .parse()
        .map_err(|_| malformed(line, "year", format!("{:?} is not a year", row.year)))?;
    Vintage::new(year).map_err(|e| malformed(line, "year", e.rule.to_string()))?;
    let total_t = mt_to_tonnes(row.mt_co2)
        .map_err(|reason| malformed(line, "mt_co2", format!("{:?}: {reason}", row.mt_co2)))?;
    if let Some(first) = seen.insert((code.to_string(), sector_code.to_string(), year), line) {
        let reason = format!("{code} {sector_code} {year} already given on line {first}");
        return Err(malformed(line, "sector_code", reason));
    }
    Ok(SectorEmissions {
        jurisdiction,
        sector_code: sector_code.to_string(),
        ceads_sector: ceads_sector.to_string(),
        year,
        total_t,
    })
}

/// Converts a decimal number of Mt CO2, given as text, to whole tonnes CO2.
///
/// The rule: the text is read as an exact decimal, multiplied by 10^6 by moving the decimal point,
/// and rounded to an integer **half to even** (banker's rounding) on the exact value - no binary
/// floating point is involved, so `"192.91"` is exactly 192,910,000 t, `"0.0000005"` (0.5 t) is
/// 0 t and `"0.0000015"` (1.5 t) is 2 t.
///
/// Accepted syntax: an optional `+`, one or more ASCII digits, and optionally `.` followed by one
/// or more digits. Rejected, with the reason as the error: empty text, a `-` sign (emissions
/// cannot be negative), exponent notation such as `1.5e-3` (write the plain decimal instead), any
/// other character, and values above `u64::MAX` tonnes.
pub fn mt_to_tonnes(text: &str) -> Result<u64, &'static str> {
    const TOO_LARGE: &str = "too large for u64 tonnes";
    let digits = match text.as_bytes().first() {
        None => return Err("empty value"),
        Some(b'-') => return Err("negative values are not allowed"),
        Some(b'+') => &text[1..],
        Some(_) => text,
    };
    if digits.contains(['e', 'E']) {
        return Err("exponent notation (e.g. 1.5e-3) is not supported; write a plain decimal");
    }
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err("not a plain decimal number (digits, optionally '.' and more digits)");
    }
    let frac = frac_part.unwrap_or("").as_bytes();
    // Tonnes = integer part * 10^6 + the first six fraction digits; the rest decides rounding.
    let mut tonnes: u64 = 0;
    for &d in int_part.as_bytes() {
        tonnes = tonnes
            .checked_mul(10)
            .and_then(|t| t.checked_add(u64::from(d - b'0')))
            .ok_or(TOO_LARGE)?;
    }
    for i in 0..6 {
        let d = frac.get(i).map_or(0, |d| u64::from(d - b'0'));
        tonnes = tonnes
            .checked_mul(10)
            .and_then(|t| t.checked_add(d))
            .ok_or(TOO_LARGE)?;
    }
    let rest = frac.get(6..).unwrap_or(&[]);
    let round_up = match rest.first() {
        None => false,
        Some(&d) if d > b'5' => true,
        Some(&d) if d < b'5' => false,
        // Exactly 5 followed by something non-zero: above half. Exactly half: to even.
        Some(_) => rest[1..].iter().any(|&d| d != b'0') || tonnes % 2 == 1,
    };
    if round_up {
        tonnes = tonnes.checked_add(1).ok_or(TOO_LARGE)?;
    }
    Ok(tonnes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "jurisdiction,province,sector_code,ceads_sector,year,mt_co2\n";

    fn parse(body: &str) -> Result<Vec<SectorEmissions>, DataError> {
        parse_covered_sectors("test.csv", &format!("{HEADER}{body}"))
    }

    fn malformed_at(err: DataError) -> (u64, String, String) {
        match err {
            DataError::Malformed {
                line,
                field,
                reason,
                ..
            } => (line, field, reason),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn decimal_conversion_is_exact_and_half_even() {
        assert_eq!(mt_to_tonnes("192.91"), Ok(192_910_000));
        assert_eq!(mt_to_tonnes("435.1607680670921"), Ok(435_160_768));
        assert_eq!(mt_to_tonnes("0.0000005"), Ok(0));
        assert_eq!(mt_to_tonnes("0.0000015"), Ok(2));
        assert_eq!(mt_to_tonnes("0.0000025"), Ok(2));
        assert_eq!(mt_to_tonnes("0.00000250001"), Ok(3));
        assert_eq!(mt_to_tonnes("0.0000004999"), Ok(0));
        assert_eq!(mt_to_tonnes("0.0000006"), Ok(1));
        assert_eq!(mt_to_tonnes("7"), Ok(7_000_000));
        assert_eq!(mt_to_tonnes("+1.5"), Ok(1_500_000));
        assert_eq!(mt_to_tonnes("0.0"), Ok(0));
        assert_eq!(mt_to_tonnes("18446744073709.551615"), Ok(u64::MAX));
        assert_eq!(mt_to_tonnes("18446744073709.5516145"), Ok(u64::MAX - 1)); // ...614.5 -> even 614
    }

    #[test]
    fn decimal_conversion_rejects_bad_text() {
        let exp = mt_to_tonnes("1.5e-3").unwrap_err();
        assert!(exp.contains("exponent notation"), "{exp}");
        assert!(mt_to_tonnes("1E3").unwrap_err().contains("exponent"));
        assert!(mt_to_tonnes("-1.0").unwrap_err().contains("negative"));
        assert!(mt_to_tonnes("").unwrap_err().contains("empty"));
        for bad in [
            "abc", "1.", ".5", "1.2.3", "1,5", " 1", "NaN", "inf", "+", "1_000",
        ] {
            assert!(mt_to_tonnes(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            mt_to_tonnes("18446744073710")
                .unwrap_err()
                .contains("too large")
        );
        // u64::MAX + 0.5 rounds to even, i.e. up, which overflows.
        assert!(
            mt_to_tonnes("18446744073709.5516155")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            mt_to_tonnes("99999999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn committed_2019_file_parses() {
        let rows = parse_covered_sectors(COVERED_SECTORS_2019_NAME, COVERED_SECTORS_2019).unwrap();
        assert_eq!(rows.len(), 4 * 7);
        for (code, _) in JURISDICTIONS {
            for (sector, _) in COVERED_SECTORS {
                let n = rows
                    .iter()
                    .filter(|r| r.jurisdiction.as_str() == code && r.sector_code == sector)
                    .count();
                assert_eq!(n, 1, "{code} {sector}");
            }
        }
        assert!(rows.iter().all(|r| r.year == 2019));
        let js_power = rows
            .iter()
            .find(|r| r.jurisdiction.as_str() == "CN-JS" && r.sector_code == "POWER")
            .unwrap();
        assert_eq!(js_power.total_t, 435_160_768);
        assert_eq!(
            js_power.ceads_sector,
            "Production and Supply of Electric Power, Steam and Hot Water"
        );
    }

    #[test]
    fn good_row_parses() {
        let rows =
            parse("CN-SH,Shanghai,PAPER,Papermaking and Paper Products,2019,0.1846206728291987\n")
                .unwrap();
        assert_eq!(rows[0].total_t, 184_621);
        assert_eq!(rows[0].jurisdiction.as_str(), "CN-SH");
    }

    #[test]
    fn malformed_rows_name_line_and_field() {
        let ok = "CN-SH,Shanghai,PAPER,Papermaking and Paper Products,2019,0.18\n";
        let cases = [
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,abc\n",
                "mt_co2",
                "plain decimal",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,-1.0\n",
                "mt_co2",
                "negative",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,1e3\n",
                "mt_co2",
                "exponent",
            ),
            (
                "CN-XX,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,1.0\n",
                "jurisdiction",
                "unknown jurisdiction",
            ),
            (
                "cn-sh,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,1.0\n",
                "jurisdiction",
                "unknown jurisdiction",
            ),
            (
                "CN-SH,Jiangsu,STEEL,Smelting and Pressing of Ferrous Metals,2019,1.0\n",
                "province",
                "does not match",
            ),
            (
                "CN-SH,Shanghai,GLASS,Smelting and Pressing of Ferrous Metals,2019,1.0\n",
                "sector_code",
                "unknown sector",
            ),
            (
                "CN-SH,Shanghai,STEEL,Nonmetal Mineral Products,2019,1.0\n",
                "ceads_sector",
                "not the CEADs sector",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,19x,1.0\n",
                "year",
                "not a year",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,1900,1.0\n",
                "year",
                "1990-2200",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019\n",
                "mt_co2",
                "missing value",
            ),
            (
                "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,1.0,9\n",
                "(record)",
                "fields",
            ),
            (
                "CN-SH,Shanghai,PAPER,Papermaking and Paper Products,2019,0.2\n",
                "sector_code",
                "already given on line 2",
            ),
        ];
        for (row, field, reason) in cases {
            let err = parse(&format!("{ok}{row}")).unwrap_err();
            let shown = err.to_string();
            let (line, f, r) = malformed_at(err);
            assert_eq!(line, 3, "{shown}");
            assert_eq!(f, field, "{shown}");
            assert!(r.contains(reason), "{shown}");
            assert!(
                shown.starts_with(&format!("test.csv:3: field `{field}`: ")),
                "{shown}"
            );
        }
    }

    #[test]
    fn line_numbers_count_quoted_and_blank_lines() {
        let body = "\n\"CN-SH\",Shanghai,PAPER,Papermaking and Paper Products,2019,0.18\n\nCN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,x\n";
        let (line, field, _) = malformed_at(parse(body).unwrap_err());
        assert_eq!((line, field.as_str()), (5, "mt_co2"));
    }

    #[test]
    fn line_numbers_survive_crlf_and_multiline_fields() {
        let bad = "CN-SH,Shanghai,STEEL,Smelting and Pressing of Ferrous Metals,2019,x";
        let good = "CN-SH,Shanghai,PAPER,Papermaking and Paper Products,2019,0.18";
        let crlf = format!("{}\r\n\r\n{good}\r\n\r\n\r\n{bad}\r\n", HEADER.trim_end());
        let (line, _, _) = malformed_at(parse_covered_sectors("x.csv", &crlf).unwrap_err());
        assert_eq!(line, 6);
        let multiline = format!(
            "{HEADER}CN-SH,Shanghai,PAPER,\"Papermaking and\nPaper Products\",2019,0.18\n{bad}\n"
        );
        let (line, field, _) =
            malformed_at(parse_covered_sectors("x.csv", &multiline).unwrap_err());
        assert_eq!((line, field.as_str()), (2, "ceads_sector"));
        let multiline = format!(
            "{HEADER}CN-SH,Shanghai,PAPER,\"Papermaking and Paper Products\",\"2019\n\",0.18\n{bad}\n"
        );
        let (line, field, _) =
            malformed_at(parse_covered_sectors("x.csv", &multiline).unwrap_err());
        assert_eq!((line, field.as_str()), (4, "mt_co2"));
        let late_header = "\n\njurisdiction,province\n";
        let err = parse_covered_sectors("x.csv", late_header).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv:3: field `sector_code`: missing column"
        );
    }

    #[test]
    fn missing_column_is_reported_on_the_header_line() {
        let text = "jurisdiction,province,sector_code,ceads_sector,year\nCN-SH,Shanghai,PAPER,Papermaking and Paper Products,2019\n";
        let err = parse_covered_sectors("x.csv", text).unwrap_err();
        assert_eq!(err.to_string(), "x.csv:1: field `mt_co2`: missing column");
        let err = parse_covered_sectors("empty.csv", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "empty.csv:1: field `jurisdiction`: missing column"
        );
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let text = "mt_co2,year,ceads_sector,sector_code,province,jurisdiction,note\n\
                    1.25,2019,Nonmetal Mineral Products,CEMENT,Anhui,CN-AH,x\n";
        let rows = parse_covered_sectors("x.csv", text).unwrap();
        assert_eq!(rows[0].total_t, 1_250_000);
        assert_eq!(rows[0].sector_code, "CEMENT");
    }

    #[test]
    fn io_error_names_the_file() {
        let err = load_covered_sectors(Path::new("/nonexistent/yrd.csv")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(
            err.to_string().starts_with("/nonexistent/yrd.csv: "),
            "{err}"
        );
    }
}
