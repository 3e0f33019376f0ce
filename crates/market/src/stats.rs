//! The day's trading statistics of one instrument and its closing price.

use crate::{Overflow, round_half_up_to_tick};
use yrd_types::Money;

/// Why a trade could not be recorded; the statistics are then unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A trade price of zero or below: the book and the block checks never produce one.
    #[error("trade price {price} must be positive")]
    NonPositivePrice {
        /// The price given, minor units per base unit.
        price: i64,
    },
    /// A trade of no units.
    #[error("trade quantity must be positive")]
    ZeroQuantity,
    /// Volume (`u64` base units), turnover (`i64` minor units) or the trade count overflowed.
    #[error(transparent)]
    Overflow(#[from] Overflow),
}

/// Running totals of the day's trades in one instrument (one accumulator per instrument and
/// trading day; the caller keys and resets them).
///
/// Book (listed agreement) trades make the open, high, low, last, VWAP and the close; block
/// agreement trades are counted in their own volume and turnover and never set the close (SEEE:
/// the closing price is the volume-weighted average of the day's listed agreement trades).
/// Prices in minor units per base unit, volumes in base units, turnover in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayStats {
    tick_minor: i64,
    book: Totals,
    block: Totals,
    open: Option<i64>,
    high: Option<i64>,
    low: Option<i64>,
    last: Option<i64>,
}

/// Volume, turnover and count of one kind of trade; turnover is `i64` so it is a [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Totals {
    volume: u64,
    turnover_minor: i64,
    trades: u64,
}

impl Totals {
    /// The totals with one more trade, or the overflow; computed apart from `self` so a failed
    /// record leaves the statistics untouched.
    fn plus(self, price: i64, quantity: u64, what: &'static str) -> Result<Totals, RecordError> {
        if price <= 0 {
            return Err(RecordError::NonPositivePrice { price });
        }
        if quantity == 0 {
            return Err(RecordError::ZeroQuantity);
        }
        // i64 x u64 < 2^127: the product itself always fits in i128.
        let value = i128::from(price) * i128::from(quantity);
        let turnover = i128::from(self.turnover_minor) + value;
        let overflow = RecordError::Overflow(Overflow { what });
        Ok(Totals {
            volume: self.volume.checked_add(quantity).ok_or(overflow)?,
            turnover_minor: i64::try_from(turnover).map_err(|_| overflow)?,
            trades: self.trades.checked_add(1).ok_or(overflow)?,
        })
    }
}

impl DayStats {
    /// Empty statistics for a day; `tick_minor` (minor units, > 0) is the tick the close is
    /// rounded to, normally [`crate::TradingRules::tick_minor`].
    ///
    /// Panics if `tick_minor <= 0` (validated rules never have one).
    pub fn new(tick_minor: i64) -> DayStats {
        assert!(tick_minor > 0, "tick must be positive, got {tick_minor}");
        DayStats {
            tick_minor,
            book: Totals::default(),
            block: Totals::default(),
            open: None,
            high: None,
            low: None,
            last: None,
        }
    }

    /// Records a listed agreement (book) trade of `quantity` base units at `price` minor units per
    /// base unit: updates open, high, low, last, book volume and turnover. On error nothing changes.
    pub fn record_book_trade(&mut self, price: i64, quantity: u64) -> Result<(), RecordError> {
        let book = self.book.plus(price, quantity, "book turnover or volume")?;
        self.book = book;
        self.open.get_or_insert(price);
        self.high = Some(self.high.map_or(price, |h| h.max(price)));
        self.low = Some(self.low.map_or(price, |l| l.min(price)));
        self.last = Some(price);
        debug_assert!(self.low <= self.last && self.last <= self.high);
        Ok(())
    }

    /// Records a block agreement trade: block volume and turnover only; it does not set the open,
    /// high, low, last or close (SEEE). On error nothing changes.
    pub fn record_block_trade(&mut self, price: i64, quantity: u64) -> Result<(), RecordError> {
        self.block = self
            .block
            .plus(price, quantity, "block turnover or volume")?;
        Ok(())
    }

    /// Price of the day's first book trade.
    pub fn open(&self) -> Option<i64> {
        self.open
    }

    /// Highest book trade price of the day.
    pub fn high(&self) -> Option<i64> {
        self.high
    }

    /// Lowest book trade price of the day.
    pub fn low(&self) -> Option<i64> {
        self.low
    }

    /// Price of the day's latest book trade (not the closing price; see [`DayStats::close`]).
    pub fn last(&self) -> Option<i64> {
        self.last
    }

    /// Base units traded on the book today.
    pub fn volume(&self) -> u64 {
        self.book.volume
    }

    /// Value of today's book trades, minor units (sum of price x quantity).
    pub fn turnover(&self) -> Money {
        Money(self.book.turnover_minor)
    }

    /// Number of book trades today.
    pub fn trade_count(&self) -> u64 {
        self.book.trades
    }

    /// Base units traded in block trades today.
    pub fn block_volume(&self) -> u64 {
        self.block.volume
    }

    /// Value of today's block trades, minor units.
    pub fn block_turnover(&self) -> Money {
        Money(self.block.turnover_minor)
    }

    /// Number of block trades today.
    pub fn block_trade_count(&self) -> u64 {
        self.block.trades
    }

    /// Volume-weighted average price of today's book trades, `turnover / volume` rounded half-up
    /// to the minor unit (1, whatever the tick); `None` without book trades.
    pub fn vwap(&self) -> Option<i64> {
        self.average(1)
    }

    /// The day's official closing price: the volume-weighted average price of today's book trades
    /// rounded half-up to the tick, like the band (SEEE: the closing price is the weighted average
    /// of the day's listed agreement trades); `None` without book trades. Block trades do not count.
    pub fn close(&self) -> Option<i64> {
        self.average(self.tick_minor)
    }

    /// [`DayStats::close`], or `previous_close` (minor units per base unit) when there were no
    /// book trades today (SEEE: with no trades the previous close is the day's close).
    pub fn closing_price(&self, previous_close: i64) -> i64 {
        self.close().unwrap_or(previous_close)
    }

    fn average(&self, tick: i64) -> Option<i64> {
        if self.book.volume == 0 {
            return None;
        }
        let rounded = round_half_up_to_tick(
            i128::from(self.book.turnover_minor),
            i128::from(self.book.volume),
            i128::from(tick),
        )
        .expect("u64 volume x i64 tick fits in i128");
        // The average lies between low and high, so rounding it to the tick stays within
        // [low rounded down, high rounded up]; as all are positive i64 it fits.
        let average = i64::try_from(rounded).expect("an average of i64 prices fits in i64");
        debug_assert!(average > 0);
        Some(average)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_trades_close_is_previous_close() {
        let s = DayStats::new(1);
        assert_eq!(s.close(), None);
        assert_eq!(s.vwap(), None);
        assert_eq!(s.closing_price(4_567), 4_567);
        assert_eq!(
            (s.open(), s.high(), s.low(), s.last()),
            (None, None, None, None)
        );
        assert_eq!(
            (s.volume(), s.turnover(), s.trade_count()),
            (0, Money(0), 0)
        );
    }

    #[test]
    fn vwap_of_several_trades() {
        let mut s = DayStats::new(1);
        s.record_book_trade(5_000, 100).unwrap();
        s.record_book_trade(5_200, 300).unwrap();
        s.record_book_trade(4_900, 600).unwrap();
        // Turnover = 500,000 + 1,560,000 + 2,940,000 = 5,000,000 fen over 1,000 t: VWAP 5,000.
        assert_eq!(s.turnover(), Money(5_000_000));
        assert_eq!(s.volume(), 1_000);
        assert_eq!(s.trade_count(), 3);
        assert_eq!(s.vwap(), Some(5_000));
        assert_eq!(s.closing_price(4_567), 5_000);
        assert_eq!(
            (s.open(), s.high(), s.low(), s.last()),
            (Some(5_000), Some(5_200), Some(4_900), Some(4_900))
        );
        // One more: 5,001 x 1 -> 5,005,001 / 1,001 = 5,000.000999 -> 5,000.
        s.record_book_trade(5_001, 1).unwrap();
        assert_eq!(s.closing_price(4_567), 5_000);
    }

    #[test]
    fn close_rounds_half_up_to_the_tick() {
        // 4,567 x 1 + 4,568 x 1 = 9,135 / 2 = 4,567.5 -> 4,568 (exactly .5 goes up).
        let mut s = DayStats::new(1);
        s.record_book_trade(4_567, 1).unwrap();
        s.record_book_trade(4_568, 1).unwrap();
        assert_eq!(s.close(), Some(4_568));
        // 3 x 4,567 + 4,568 = 18,269 / 4 = 4,567.25 -> 4,567.
        let mut s = DayStats::new(1);
        s.record_book_trade(4_567, 3).unwrap();
        s.record_book_trade(4_568, 1).unwrap();
        assert_eq!(s.close(), Some(4_567));
        // Tick 5: 100 x 1 + 105 x 1 = 102.5 = 20.5 ticks -> 21 ticks = 105; the VWAP to the fen
        // is 102.5 -> 103.
        let mut s = DayStats::new(5);
        s.record_book_trade(100, 1).unwrap();
        s.record_book_trade(105, 1).unwrap();
        assert_eq!(s.close(), Some(105));
        assert_eq!(s.vwap(), Some(103));
        // Tick 5: 100 x 3 + 105 x 1 = 405 / 4 = 101.25 = 20.25 ticks -> 20 ticks = 100.
        let mut s = DayStats::new(5);
        s.record_book_trade(100, 3).unwrap();
        s.record_book_trade(105, 1).unwrap();
        assert_eq!(s.close(), Some(100));
    }

    #[test]
    fn block_trades_do_not_set_the_close() {
        let mut s = DayStats::new(1);
        s.record_block_trade(6_000, 500_000).unwrap();
        // Only a block trade: the close is still the previous close.
        assert_eq!(s.closing_price(4_567), 4_567);
        assert_eq!(s.volume(), 0);
        assert_eq!(s.block_volume(), 500_000);
        assert_eq!(s.block_turnover(), Money(3_000_000_000));
        assert_eq!(s.block_trade_count(), 1);
        s.record_book_trade(4_600, 10).unwrap();
        // The close is the book's 4,600, not a mix with the block's 6,000.
        assert_eq!(s.closing_price(4_567), 4_600);
        assert_eq!((s.high(), s.low()), (Some(4_600), Some(4_600)));
    }

    #[test]
    fn overflow_and_bad_trades_are_values_and_change_nothing() {
        let mut s = DayStats::new(1);
        s.record_book_trade(i64::MAX, 1).unwrap();
        let before = s.clone();
        assert_eq!(
            s.record_book_trade(1, 1),
            Err(RecordError::Overflow(Overflow {
                what: "book turnover or volume"
            }))
        );
        assert_eq!(s, before);
        // One trade whose value alone exceeds i64.
        let mut s = DayStats::new(1);
        assert!(matches!(
            s.record_block_trade(i64::MAX, u64::MAX),
            Err(RecordError::Overflow(_))
        ));
        assert_eq!(s.block_volume(), 0);
        // Prices are >= 1, so turnover >= volume: i64 turnover overflows before u64 volume can.
        let mut s = DayStats::new(1);
        assert_eq!(
            s.record_book_trade(0, 1),
            Err(RecordError::NonPositivePrice { price: 0 })
        );
        assert_eq!(s.record_book_trade(10, 0), Err(RecordError::ZeroQuantity));
        assert_eq!(s, DayStats::new(1));
    }
}
