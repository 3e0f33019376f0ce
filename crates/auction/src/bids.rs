//! Sealed bids: the validated book the clearing reads, and the CSV reader that fills it.

use std::collections::HashMap;

/// The most bids one auction may hold. Bid and bidder indices are `u32`; 16 M bids is 16 times the
/// benchmark and far above any real auction (RGGI and CA-QC see a few hundred).
pub const BIDS_MAX: usize = 1 << 24;

/// The largest quantity one bid may ask for: 10^15 allowances (`yrd_types::Quantity::MAX`).
pub const BID_QUANTITY_MAX: u64 = 1_000_000_000_000_000;

/// The largest total of all bid quantities: 10^18, so every cumulative sum fits a `u64`.
pub const DEMAND_TOTAL_MAX: u64 = 1_000_000_000_000_000_000;

/// One bid, after validation. `bidder` indexes [`BidBook::bidders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bid {
    /// Index of the bidder in [`BidBook::bidders`].
    pub bidder: u32,
    /// Price offered, minor currency units per allowance; positive.
    pub price_minor: i64,
    /// Allowances asked for; positive and a whole number of lots.
    pub quantity: u64,
    /// Where the bid came from: the CSV line (1 = header), or the caller's own numbering.
    pub line: u64,
}

/// The bid field a [`BidError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidField {
    /// The whole record (wrong number of fields, unreadable CSV).
    Record,
    /// `bidder`.
    Bidder,
    /// `group`.
    Group,
    /// `price`.
    Price,
    /// `quantity`.
    Quantity,
}

impl std::fmt::Display for BidField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BidField::Record => "record",
            BidField::Bidder => "bidder",
            BidField::Group => "group",
            BidField::Price => "price",
            BidField::Quantity => "quantity",
        })
    }
}

/// Why a bid was refused. Each variant is one named check with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BidRule {
    /// The header is not `bidder,group,price,quantity`.
    #[error("AUCTION_BAD_HEADER: the header must be bidder,group,price,quantity")]
    BadHeader,
    /// The CSV record could not be read (wrong field count, bad UTF-8).
    #[error("AUCTION_BAD_RECORD: {0}")]
    BadRecord(String),
    /// An empty bidder or group name.
    #[error("AUCTION_EMPTY: must not be empty")]
    Empty,
    /// Not a whole number (prices are minor units: `1234` for 12.34).
    #[error("AUCTION_NOT_AN_INTEGER: {0:?} is not a whole number of minor units / allowances")]
    NotAnInteger(String),
    /// A whole number outside the field's range (a price above `i64::MAX`, a quantity above
    /// 10^15).
    #[error("AUCTION_OUT_OF_RANGE: {0:?} is too large")]
    OutOfRange(String),
    /// Zero or negative.
    #[error("AUCTION_NOT_POSITIVE: {0} must be positive")]
    NotPositive(String),
    /// A quantity that is not a whole number of lots.
    #[error("AUCTION_OFF_LOT: quantity {quantity} is not a multiple of the lot size {lot}")]
    OffLot {
        /// The quantity.
        quantity: u64,
        /// The lot size.
        lot: u64,
    },
    /// A bidder that already bid for another group: a bidder belongs to one group.
    #[error("AUCTION_BIDDER_IN_TWO_GROUPS: bidder {bidder:?} already bid in group {first:?}")]
    BidderInTwoGroups {
        /// The bidder.
        bidder: String,
        /// The group of its earlier bid.
        first: String,
    },
    /// A second bid of one bidder at one price: a bid schedule has one quantity per price.
    #[error(
        "AUCTION_DUPLICATE_PRICE: bidder {bidder:?} already bid at {price_minor} on line {first_line}"
    )]
    DuplicatePrice {
        /// The bidder.
        bidder: String,
        /// The price.
        price_minor: i64,
        /// Line of the earlier bid.
        first_line: u64,
    },
    /// More than [`BIDS_MAX`] bids, or a total quantity above [`DEMAND_TOTAL_MAX`].
    #[error(
        "AUCTION_TOO_MANY: more than {BIDS_MAX} bids or {DEMAND_TOTAL_MAX} allowances in total"
    )]
    TooMany,
}

/// A refused bid: where, which field, which rule. Nothing is added to the book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, {field}: {rule}")]
pub struct BidError {
    /// The bid's line (CSV line number, header = 1).
    pub line: u64,
    /// The field at fault.
    pub field: BidField,
    /// The rule it breaks.
    pub rule: BidRule,
}

/// All sealed bids of one auction, validated against its lot size. Bidder and group names are
/// interned; bids keep their order of arrival, which is the order the tie draw numbers them in.
#[derive(Debug, Clone)]
pub struct BidBook {
    lot: u64,
    bidders: Vec<String>,
    groups: Vec<String>,
    bidder_group: Vec<u32>,
    bids: Vec<Bid>,
    demand_total: u64,
    bidder_index: HashMap<String, u32>,
    group_index: HashMap<String, u32>,
    // (bidder, price) -> line of the bid, to refuse a second bid at one price.
    prices_seen: HashMap<(u32, i64), u64>,
}

impl BidBook {
    /// An empty book for an auction with lot size `lot` (at least 1).
    pub fn new(lot: u64) -> BidBook {
        assert!(lot > 0, "the lot size is validated before any bid is read");
        BidBook {
            lot,
            bidders: Vec::new(),
            groups: Vec::new(),
            bidder_group: Vec::new(),
            bids: Vec::new(),
            demand_total: 0,
            bidder_index: HashMap::new(),
            group_index: HashMap::new(),
            prices_seen: HashMap::new(),
        }
    }

    /// The lot size the bids were checked against.
    pub fn lot(&self) -> u64 {
        self.lot
    }

    /// The bids, in order of arrival.
    pub fn bids(&self) -> &[Bid] {
        &self.bids
    }

    /// Bidder names, by index.
    pub fn bidders(&self) -> &[String] {
        &self.bidders
    }

    /// Group names, by index.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The group index of each bidder, by bidder index.
    pub fn bidder_groups(&self) -> &[u32] {
        &self.bidder_group
    }

    /// Sum of all bid quantities as submitted.
    pub fn demand_total(&self) -> u64 {
        self.demand_total
    }

    /// Adds one bid, or refuses it naming the field and leaves the book unchanged.
    pub fn push(
        &mut self,
        line: u64,
        bidder: &str,
        group: &str,
        price_minor: i64,
        quantity: u64,
    ) -> Result<(), BidError> {
        let fail = |field, rule| Err(BidError { line, field, rule });
        if bidder.is_empty() {
            return fail(BidField::Bidder, BidRule::Empty);
        }
        if group.is_empty() {
            return fail(BidField::Group, BidRule::Empty);
        }
        if price_minor <= 0 {
            return fail(
                BidField::Price,
                BidRule::NotPositive(price_minor.to_string()),
            );
        }
        if quantity == 0 {
            return fail(BidField::Quantity, BidRule::NotPositive("0".into()));
        }
        if quantity > BID_QUANTITY_MAX {
            return fail(
                BidField::Quantity,
                BidRule::OutOfRange(quantity.to_string()),
            );
        }
        if !quantity.is_multiple_of(self.lot) {
            let lot = self.lot;
            return fail(BidField::Quantity, BidRule::OffLot { quantity, lot });
        }
        let demand_total = self.demand_total + quantity;
        if self.bids.len() >= BIDS_MAX || demand_total > DEMAND_TOTAL_MAX {
            return fail(BidField::Record, BidRule::TooMany);
        }
        let bidder_known = self.bidder_index.get(bidder).copied();
        if let Some(b) = bidder_known {
            let first = &self.groups[self.bidder_group[b as usize] as usize];
            if first != group {
                let rule = BidRule::BidderInTwoGroups {
                    bidder: bidder.to_string(),
                    first: first.clone(),
                };
                return fail(BidField::Group, rule);
            }
            if let Some(&first_line) = self.prices_seen.get(&(b, price_minor)) {
                let rule = BidRule::DuplicatePrice {
                    bidder: bidder.to_string(),
                    price_minor,
                    first_line,
                };
                return fail(BidField::Price, rule);
            }
        }
        // Every check passed: from here on the book changes.
        let bidder_id = match bidder_known {
            Some(b) => b,
            None => {
                let group_id = match self.group_index.get(group) {
                    Some(&g) => g,
                    None => {
                        let g = u32::try_from(self.groups.len()).expect("bounded by BIDS_MAX");
                        self.groups.push(group.to_string());
                        self.group_index.insert(group.to_string(), g);
                        g
                    }
                };
                let b = u32::try_from(self.bidders.len()).expect("bounded by BIDS_MAX");
                self.bidders.push(bidder.to_string());
                self.bidder_group.push(group_id);
                self.bidder_index.insert(bidder.to_string(), b);
                b
            }
        };
        self.prices_seen.insert((bidder_id, price_minor), line);
        self.bids.push(Bid {
            bidder: bidder_id,
            price_minor,
            quantity,
            line,
        });
        self.demand_total = demand_total;
        Ok(())
    }
}

/// Reads a bids CSV (`bidder,group,price,quantity`, header first; price in minor currency units
/// per allowance, quantity in allowances, both whole numbers) into a book for lot size `lot`.
/// Fields are trimmed of surrounding spaces; blank lines are skipped. The first bad line is
/// reported with its line number in the file (the header is line 1) and its field.
pub fn read_bids_csv<R: std::io::Read>(mut input: R, lot: u64) -> Result<BidBook, BidError> {
    let mut data = Vec::new();
    input.read_to_end(&mut data).map_err(|e| BidError {
        line: 1,
        field: BidField::Record,
        rule: BidRule::BadRecord(e.to_string()),
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(&data[..]);
    let mut lines = LineCounter::new(&data);
    let mut book = BidBook::new(lot);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let byte_before = reader.position().byte();
        let more = reader.read_record(&mut record).map_err(|e| BidError {
            line: lines.line_of_record_at(e.position().map_or(byte_before, |p| p.byte())),
            field: BidField::Record,
            rule: BidRule::BadRecord(csv_error_text(&e)),
        })?;
        if !more {
            break;
        }
        let line = lines.line_of_record_at(byte_before);
        if first {
            first = false;
            if record.iter().ne(["bidder", "group", "price", "quantity"]) {
                return Err(BidError {
                    line,
                    field: BidField::Record,
                    rule: BidRule::BadHeader,
                });
            }
            continue;
        }
        // `read_record` has checked the field count against the header's.
        let price = parse_price(&record[2]).map_err(|rule| BidError {
            line,
            field: BidField::Price,
            rule,
        })?;
        let quantity = parse_quantity(&record[3]).map_err(|rule| BidError {
            line,
            field: BidField::Quantity,
            rule,
        })?;
        book.push(line, &record[0], &record[1], price, quantity)?;
    }
    if first {
        return Err(BidError {
            line: 1,
            field: BidField::Record,
            rule: BidRule::BadHeader,
        });
    }
    Ok(book)
}

/// Line numbers of records. The csv reader positions a record where the previous one ended,
/// before the blank lines it skips; this finds the first byte of the record itself and counts the
/// newlines before it, moving forward only (records come in order), so the whole file costs one
/// pass.
struct LineCounter<'a> {
    data: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineCounter {
            data,
            byte: 0,
            line: 1,
        }
    }

    fn line_of_record_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .expect("an in-memory offset")
            .min(self.data.len());
        while start < self.data.len() && matches!(self.data[start], b'\n' | b'\r') {
            start += 1;
        }
        assert!(start >= self.byte, "records are read in order");
        self.line += self.data[self.byte..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.byte = start;
        self.line
    }
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, expected {expected_len}"),
        _ => e.to_string(),
    }
}

/// True when `text` is an optional sign followed by digits only: a whole number, maybe too large.
fn is_whole_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_price(text: &str) -> Result<i64, BidRule> {
    match text.parse::<i64>() {
        Ok(p) if p <= 0 => Err(BidRule::NotPositive(text.to_string())),
        Ok(p) => Ok(p),
        Err(_) if is_whole_number(text) && text.starts_with('-') => {
            Err(BidRule::NotPositive(text.to_string()))
        }
        Err(_) if is_whole_number(text) => Err(BidRule::OutOfRange(text.to_string())),
        Err(_) => Err(BidRule::NotAnInteger(text.to_string())),
    }
}

fn parse_quantity(text: &str) -> Result<u64, BidRule> {
    if !is_whole_number(text) {
        return Err(BidRule::NotAnInteger(text.to_string()));
    }
    if text.starts_with('-') {
        // "-0" included: a quantity must be positive.
        return Err(BidRule::NotPositive(text.to_string()));
    }
    match text.parse::<u64>() {
        Ok(0) => Err(BidRule::NotPositive(text.to_string())),
        Ok(q) if q <= BID_QUANTITY_MAX => Ok(q),
        _ => Err(BidRule::OutOfRange(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<BidBook, BidError> {
        read_bids_csv(text.as_bytes(), 1000)
    }

    fn refusal(text: &str) -> (u64, BidField) {
        let e = read(text).unwrap_err();
        (e.line, e.field)
    }

    #[test]
    fn reads_bids_with_line_numbers() {
        let book =
            read("bidder,group,price,quantity\na,g,1500,2000\n b , g ,1400, 1000\n").unwrap();
        assert_eq!(book.bids().len(), 2);
        assert_eq!(book.bids()[1].line, 3);
        assert_eq!(book.bidders(), ["a", "b"]);
        assert_eq!(book.demand_total(), 3000);
    }

    #[test]
    fn refuses_bad_fields_naming_line_and_field() {
        let h = "bidder,group,price,quantity\n";
        let cases: [(&str, u64, BidField); 11] = [
            ("a,g,1500,1500\n", 2, BidField::Quantity),
            ("a,g,1500,0\n", 2, BidField::Quantity),
            ("a,g,1500,-1000\n", 2, BidField::Quantity),
            ("a,g,0,1000\n", 2, BidField::Price),
            ("a,g,-5,1000\n", 2, BidField::Price),
            ("a,g,12.50,1000\n", 2, BidField::Price),
            ("a,g,9223372036854775808,1000\n", 2, BidField::Price),
            ("a,g,1500,1000\n,g,1,1000\n", 3, BidField::Bidder),
            ("a,g,1500,1000\na,h,1400,1000\n", 3, BidField::Group),
            ("a,g,1500,1000\na,g,1500,2000\n", 3, BidField::Price),
            ("a,g,1500,1000\n\na,g,1500\n", 4, BidField::Record),
        ];
        for (body, line, field) in cases {
            assert_eq!(refusal(&format!("{h}{body}")), (line, field), "{body}");
        }
        assert_eq!(refusal("bidder,price,quantity\n"), (1, BidField::Record));
        assert_eq!(refusal(""), (1, BidField::Record));
        assert!(matches!(
            read("bidder,group,price,quantity\na,g,9223372036854775808,1000\n")
                .unwrap_err()
                .rule,
            BidRule::OutOfRange(_)
        ));
    }

    #[test]
    fn a_refused_bid_leaves_the_book_unchanged() {
        let mut book = BidBook::new(500);
        book.push(2, "a", "g", 100, 500).unwrap();
        assert!(book.push(3, "a", "h", 90, 500).is_err());
        assert!(book.push(4, "b", "g", 90, 501).is_err());
        assert_eq!(book.bids().len(), 1);
        assert_eq!(book.bidders().len(), 1);
        assert_eq!(book.demand_total(), 500);
    }
}
