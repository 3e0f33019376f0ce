//! Government auctions inside the registry: set-up from a jurisdiction's auction account,
//! qualified bidders, sealed bids backed by cash guarantees, clearing by `yrd-auction`, and
//! settlement of every award in the transaction that clears.
//!
//! Bids are sealed: they are part of the registry's state and journal (regulators and the
//! administrator see them) but no report shows one bidder another's bids; the public result
//! ([`yrd_auction::PublicReport`]) names no bidder.

use crate::command::{Effect, JointShare, UnsoldRule};
use crate::rules::{RuleCode, Violation};
use crate::state::RegistryState;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use yrd_auction::{AuctionRules, BidBook, PublicReport, clear};
use yrd_ledger::AccountNo;
use yrd_types::{AccountId, AccountKind, OrderRef, UnitClass};

/// A sealed bid as the administrator sees it.
#[derive(Debug, Clone)]
pub struct BidRecord {
    /// Bid reference.
    pub reference: OrderRef,
    /// Bidder.
    pub account: AccountNo,
    /// Bidder group.
    pub group: String,
    /// Price, minor units per allowance.
    pub price_minor: i64,
    /// Allowances.
    pub quantity: u64,
    /// The bidder is suspended (the bid takes no part).
    pub suspended: bool,
}

/// One jurisdiction's contribution to an auction's supply.
#[derive(Debug, Clone)]
struct Share {
    class: UnitClass,
    seller: AccountNo,
    quantity: u64,
}

/// An auction's terms as the command carries them.
pub(crate) struct AuctionSetup<'a> {
    pub rules: &'a AuctionRules,
    pub closes: NaiveDate,
    pub joint: &'a [JointShare],
    pub unsold: UnsoldRule,
}

/// The highest bid price accepted, minor units per allowance (CNY 10 billion per t): keeps every
/// guarantee, price x quantity, inside `i64`.
pub const MAX_BID_PRICE_MINOR: i64 = 1_000_000_000_000;

/// A bid as the command carries it.
pub(crate) struct NewBid<'a> {
    pub auction: &'a OrderRef,
    pub bid: &'a OrderRef,
    pub account: &'a AccountId,
    pub price: i64,
    pub quantity: u64,
}

/// One sealed bid.
#[derive(Debug, Clone)]
pub(crate) struct SealedBid {
    account: AccountNo,
    price: i64,
    quantity: u64,
    /// Order of arrival (journal sequence number), the tie-break of last resort.
    arrival: u64,
}

/// One auction and where it stands.
#[derive(Debug, Clone)]
pub struct Auction {
    class: UnitClass,
    /// What each contributing jurisdiction's auction account offers (one share for a
    /// single-jurisdiction auction), reserved until the clearing.
    shares: Vec<Share>,
    rules: AuctionRules,
    closes: NaiveDate,
    unsold: UnsoldRule,
    qualified: BTreeMap<AccountNo, String>,
    suspended: std::collections::BTreeSet<AccountNo>,
    bids: BTreeMap<OrderRef, SealedBid>,
    /// The published result once cleared.
    pub result: Option<PublicReport>,
    /// Allowances awarded per bidder, once cleared (the administrator's record).
    awards: BTreeMap<AccountNo, u64>,
}

impl Auction {
    /// The allowances sold.
    pub fn class(&self) -> &UnitClass {
        &self.class
    }

    /// Last day of the bidding window.
    pub fn closes(&self) -> NaiveDate {
        self.closes
    }

    /// The auction's rules (supply, lot, reserve price, ...).
    pub fn rules(&self) -> &AuctionRules {
        &self.rules
    }

    /// The administrator's full record: every sealed bid and, once cleared, each bidder's award.
    /// Not for the public: it names bidders.
    pub fn full_record(&self) -> (Vec<BidRecord>, &BTreeMap<AccountNo, u64>) {
        let bids = self
            .bids
            .iter()
            .map(|(r, b)| BidRecord {
                reference: r.clone(),
                account: b.account,
                group: self.qualified.get(&b.account).cloned().unwrap_or_default(),
                price_minor: b.price,
                quantity: b.quantity,
                suspended: self.suspended.contains(&b.account),
            })
            .collect();
        (bids, &self.awards)
    }

    /// (qualified bidders, sealed bids) - counts only: bids stay sealed.
    pub fn participation(&self) -> (usize, usize) {
        (self.qualified.len(), self.bids.len())
    }
}

/// All auctions, by reference.
#[derive(Debug, Clone, Default)]
pub struct Auctions {
    pub(crate) by_ref: BTreeMap<OrderRef, Auction>,
}

impl Auctions {
    /// The auction with this reference.
    pub fn get(&self, reference: &OrderRef) -> Option<&Auction> {
        self.by_ref.get(reference)
    }

    /// Every auction, by reference.
    pub fn iter(&self) -> impl Iterator<Item = (&OrderRef, &Auction)> {
        self.by_ref.iter()
    }

    /// Cash each account holds as bid guarantees (audited against the cash ledger).
    pub(crate) fn guarantees_by_account(&self) -> BTreeMap<AccountNo, i64> {
        let mut m = BTreeMap::new();
        for a in self.by_ref.values().filter(|a| a.result.is_none()) {
            for b in a.bids.values() {
                *m.entry(b.account).or_insert(0) += guarantee(b.price, b.quantity);
            }
        }
        m
    }
}

/// A bid's guarantee: its full value, price x quantity (minor units). Bounded: price and
/// quantity are checked so that the product fits.
fn guarantee(price: i64, quantity: u64) -> i64 {
    price.saturating_mul(i64::try_from(quantity).unwrap_or(i64::MAX))
}

fn fail(code: RuleCode, field: &'static str, message: impl Into<String>) -> Vec<Violation> {
    vec![Violation::new(code, field, message)]
}

impl RegistryState {
    /// Sets up an auction: the jurisdiction's auction account offers `rules.supply` (plus any
    /// cost containment reserve) of `class`, reserved until the auction clears.
    pub(crate) fn create_auction(
        &mut self,
        date: NaiveDate,
        auction: &OrderRef,
        class: &UnitClass,
        setup: AuctionSetup<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let AuctionSetup {
            rules,
            closes,
            joint,
            unsold,
        } = setup;
        // Bids are at most MAX_BID_PRICE_MINOR: a higher reserve price could never sell.
        if rules.reserve_price_minor > MAX_BID_PRICE_MINOR {
            return Err(fail(
                RuleCode::AuctionRule,
                "rules",
                format!(
                    "the reserve price must be at most {MAX_BID_PRICE_MINOR}, the highest bid price"
                ),
            ));
        }
        if self.auctions().by_ref.contains_key(auction) {
            return Err(fail(
                RuleCode::DuplicateOrderRef,
                "auction",
                format!("auction {auction} exists"),
            ));
        }
        rules
            .validate()
            .map_err(|e| fail(RuleCode::AuctionRule, "rules", e.to_string()))?;
        if closes < date {
            return Err(fail(
                RuleCode::InvalidField,
                "closes",
                format!("the bidding window closes on {closes}, before {date}"),
            ));
        }
        let shares = self.auction_shares(class, rules, joint)?;
        for share in &shares {
            self.exchange_mut()
                .reserve_units(share.seller, &share.class, share.quantity);
        }
        let state = Auction {
            class: class.clone(),
            shares,
            rules: *rules,
            closes,
            unsold,
            qualified: BTreeMap::new(),
            suspended: std::collections::BTreeSet::new(),
            bids: BTreeMap::new(),
            result: None,
            awards: BTreeMap::new(),
        };
        self.auctions_mut().by_ref.insert(auction.clone(), state);
        Ok(vec![Effect::AuctionCreated {
            auction: auction.clone(),
            class: class.clone(),
            supply: rules.supply,
        }])
    }

    /// The shares of an auction's supply, checked: a single jurisdiction's auction account offers
    /// the supply plus any cost containment reserve; a joint auction (CA-QC style) has one share
    /// per jurisdiction - same unit type and vintage, quantities adding up to the supply, `class`
    /// the first share's, no cost containment reserve, and the reserve price the higher of the
    /// jurisdictions' (Western Climate Initiative joint auction rules).
    fn auction_shares(
        &self,
        class: &UnitClass,
        rules: &AuctionRules,
        joint: &[JointShare],
    ) -> Result<Vec<Share>, Vec<Violation>> {
        let wanted: Vec<(UnitClass, u64)> = if joint.is_empty() {
            vec![(
                class.clone(),
                rules.supply + rules.ccr.map_or(0, |c| c.quantity),
            )]
        } else {
            if joint[0].class != *class {
                return Err(fail(
                    RuleCode::InvalidField,
                    "class",
                    "a joint auction's class is its first share's",
                ));
            }
            if rules.ccr.is_some() {
                return Err(fail(
                    RuleCode::AuctionRule,
                    "rules",
                    "a joint auction has no cost containment reserve here",
                ));
            }
            let total: u64 = joint.iter().map(|j| j.quantity).sum();
            if total != rules.supply {
                return Err(fail(
                    RuleCode::AuctionRule,
                    "joint",
                    format!(
                        "the shares add up to {total}, not the supply {}",
                        rules.supply
                    ),
                ));
            }
            let highest = joint
                .iter()
                .map(|j| j.reserve_price_minor)
                .max()
                .unwrap_or(0);
            if rules.reserve_price_minor != highest {
                return Err(fail(
                    RuleCode::AuctionRule,
                    "rules",
                    format!(
                        "a joint auction's reserve price is the higher of its jurisdictions', {highest}"
                    ),
                ));
            }
            for (i, j) in joint.iter().enumerate() {
                let same_product =
                    j.class.unit_type == class.unit_type && j.class.vintage == class.vintage;
                let repeated = joint[..i].iter().any(|k| k.class == j.class);
                if !same_product || repeated || j.quantity == 0 {
                    return Err(fail(
                        RuleCode::AuctionRule,
                        "joint",
                        format!(
                            "share {} must be another jurisdiction's {}/{} with a positive quantity",
                            j.class, class.unit_type, class.vintage
                        ),
                    ));
                }
            }
            joint
                .iter()
                .map(|j| (j.class.clone(), j.quantity))
                .collect()
        };
        let mut shares = Vec::new();
        for (c, quantity) in wanted {
            let seller = self
                .system_account_pub(&c.jurisdiction, AccountKind::Auction, "class")
                .map_err(|v| vec![v])?;
            let free = self.free_units(seller, &c);
            if free < quantity {
                return Err(fail(
                    RuleCode::InsufficientHoldings,
                    "rules",
                    format!(
                        "the auction account of {} holds {free} free units of {c}; the auction offers {quantity}",
                        c.jurisdiction
                    ),
                ));
            }
            shares.push(Share {
                class: c,
                seller,
                quantity,
            });
        }
        Ok(shares)
    }

    fn open_auction(
        &self,
        auction: &OrderRef,
        date: NaiveDate,
    ) -> Result<&Auction, Vec<Violation>> {
        let a = self.auctions().by_ref.get(auction).ok_or_else(|| {
            fail(
                RuleCode::UnknownOrder,
                "auction",
                format!("no auction {auction}"),
            )
        })?;
        if a.result.is_some() || date > a.closes {
            return Err(fail(
                RuleCode::AuctionClosed,
                "auction",
                format!("bidding in auction {auction} closed on {}", a.closes),
            ));
        }
        Ok(a)
    }

    /// Admits an account to bid, in a bidder group (purchase limits apply per group).
    pub(crate) fn qualify_bidder(
        &mut self,
        date: NaiveDate,
        auction: &OrderRef,
        account: &AccountId,
        group: &str,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let no = self.participant_pub(account, "account")?;
        let class = self.open_auction(auction, date)?.class.clone();
        self.may_receive_pub(no, &class, "account")
            .map_err(|v| vec![v])?;
        if group.trim().is_empty() || group.len() > 64 {
            return Err(fail(
                RuleCode::InvalidField,
                "group",
                "a bidder group name of 1-64 characters",
            ));
        }
        self.auctions_mut()
            .by_ref
            .get_mut(auction)
            .expect("open")
            .qualified
            .insert(no, group.to_string());
        Ok(vec![Effect::BidderQualified {
            auction: auction.clone(),
            account: account.clone(),
        }])
    }

    /// Places or replaces a sealed bid; its guarantee (price x quantity) is reserved from cash.
    pub(crate) fn submit_bid(
        &mut self,
        date: NaiveDate,
        seq: u64,
        b: NewBid<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let NewBid {
            auction,
            bid,
            account,
            price,
            quantity,
        } = b;
        let no = self.participant_pub(account, "account")?;
        let a = self.open_auction(auction, date)?;
        if a.suspended.contains(&no) {
            return Err(fail(
                RuleCode::NotQualified,
                "account",
                format!("account {account} is suspended from auction {auction}"),
            ));
        }
        if !a.qualified.contains_key(&no) {
            return Err(fail(
                RuleCode::NotQualified,
                "account",
                format!("account {account} is not qualified to bid in auction {auction}"),
            ));
        }
        if price <= 0 || price > MAX_BID_PRICE_MINOR {
            return Err(fail(
                RuleCode::InvalidField,
                "price_minor",
                "price must be positive and at most 10^12 minor units",
            ));
        }
        if quantity == 0 || !quantity.is_multiple_of(a.rules.lot) || quantity > a.rules.supply {
            return Err(fail(
                RuleCode::AuctionRule,
                "quantity",
                format!(
                    "quantity {quantity} must be a positive multiple of the lot {} and at most the supply {}",
                    a.rules.lot, a.rules.supply
                ),
            ));
        }
        if a.bids
            .iter()
            .any(|(r, b)| r != bid && b.account == no && b.price == price)
        {
            return Err(fail(
                RuleCode::AuctionRule,
                "price_minor",
                format!(
                    "account {account} already bids at {price}; change that bid's quantity instead"
                ),
            ));
        }
        if price
            .checked_mul(i64::try_from(quantity).unwrap_or(i64::MAX))
            .is_none()
        {
            return Err(fail(
                RuleCode::QuantityOverflow,
                "quantity",
                "price x quantity overflows",
            ));
        }
        let previous = a.bids.get(bid).cloned();
        if let Some(p) = &previous
            && p.account != no
        {
            return Err(fail(
                RuleCode::NotOrderOwner,
                "bid",
                format!("bid {bid} belongs to another bidder"),
            ));
        }
        let released = previous
            .as_ref()
            .map_or(0, |p| guarantee(p.price, p.quantity));
        let needed = guarantee(price, quantity);
        let available = self.cash().available_on(no, date) + released;
        if available < needed {
            return Err(fail(
                RuleCode::InsufficientCash,
                "quantity",
                format!(
                    "account {account} has {available} (minor currency units) available; the bid's guarantee is {needed}"
                ),
            ));
        }
        if released > 0 {
            self.cash_mut()
                .release(no, released)
                .expect("reserved for the bid");
        }
        self.cash_mut()
            .reserve_on(no, needed, date)
            .expect("checked");
        let arrival = previous.map_or(seq, |p| p.arrival);
        let a = self.auctions_mut().by_ref.get_mut(auction).expect("open");
        a.bids.insert(
            bid.clone(),
            SealedBid {
                account: no,
                price,
                quantity,
                arrival,
            },
        );
        Ok(vec![Effect::BidSealed {
            auction: auction.clone(),
            bid: bid.clone(),
        }])
    }

    /// Suspends a bidder from an auction (or lifts the suspension): a suspended bidder cannot bid,
    /// and its bids take no part in the clearing (their guarantees are released then).
    pub(crate) fn set_bidder_suspended(
        &mut self,
        date: NaiveDate,
        auction: &OrderRef,
        account: &AccountId,
        suspended: bool,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let no = self.participant_pub(account, "account")?;
        self.open_auction(auction, date)?;
        let a = self.auctions_mut().by_ref.get_mut(auction).expect("open");
        if suspended {
            a.suspended.insert(no);
        } else {
            a.suspended.remove(&no);
        }
        Ok(vec![Effect::BidderSuspended {
            auction: auction.clone(),
            account: account.clone(),
            suspended,
        }])
    }

    /// Withdraws a sealed bid before the window closes; its guarantee is released.
    pub(crate) fn withdraw_bid(
        &mut self,
        date: NaiveDate,
        auction: &OrderRef,
        bid: &OrderRef,
        account: &AccountId,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let no = self.participant_pub(account, "account")?;
        let a = self.open_auction(auction, date)?;
        let Some(b) = a.bids.get(bid).cloned() else {
            return Err(fail(
                RuleCode::UnknownOrder,
                "bid",
                format!("no bid {bid} in auction {auction}"),
            ));
        };
        if b.account != no {
            return Err(fail(
                RuleCode::NotOrderOwner,
                "bid",
                format!("bid {bid} belongs to another bidder"),
            ));
        }
        self.cash_mut()
            .release(no, guarantee(b.price, b.quantity))
            .expect("reserved for the bid");
        self.auctions_mut()
            .by_ref
            .get_mut(auction)
            .expect("open")
            .bids
            .remove(bid);
        Ok(vec![Effect::BidWithdrawn {
            auction: auction.clone(),
            bid: bid.clone(),
        }])
    }

    /// Clears an auction after its window closed and settles every award: units from the
    /// auction account to the winner, the clearing price times the award from the winner's
    /// guarantee to the auction account; unused guarantees are released and unsold units stay.
    pub(crate) fn clear_auction(
        &mut self,
        date: NaiveDate,
        auction: &OrderRef,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let a = self
            .auctions()
            .by_ref
            .get(auction)
            .cloned()
            .ok_or_else(|| {
                fail(
                    RuleCode::UnknownOrder,
                    "auction",
                    format!("no auction {auction}"),
                )
            })?;
        if a.result.is_some() {
            return Err(fail(
                RuleCode::AuctionClosed,
                "auction",
                format!("auction {auction} was already cleared"),
            ));
        }
        if date <= a.closes {
            return Err(fail(
                RuleCode::AuctionClosed,
                "date",
                format!(
                    "auction {auction} can be cleared after its window closes on {}",
                    a.closes
                ),
            ));
        }
        // Arrival order is the order of the bids' first submission.
        let mut bids: Vec<(&OrderRef, &SealedBid)> = a
            .bids
            .iter()
            .filter(|(_, b)| !a.suspended.contains(&b.account))
            .collect();
        bids.sort_by_key(|(_, b)| b.arrival);
        let mut book = BidBook::new(a.rules.lot);
        let mut bidder_of = Vec::new();
        for (line, (_, b)) in bids.iter().enumerate() {
            let id = self.ledger().account(b.account).spec.id.to_string();
            book.push(
                line as u64 + 1,
                &id,
                &a.qualified[&b.account],
                b.price,
                b.quantity,
            )
            .map_err(|e| fail(RuleCode::AuctionRule, "bids", e.to_string()))?;
            if !bidder_of.contains(&b.account) {
                bidder_of.push(b.account);
            }
        }
        let outcome = clear(&book, &a.rules)
            .map_err(|e| fail(RuleCode::AuctionRule, "rules", e.to_string()))?;
        // Bidders appear in the book in first-bid order, as in `bidder_of`.
        let price = outcome.clearing_price_minor.unwrap_or(0);
        let mut effects = Vec::new();
        let mut guarantees: BTreeMap<AccountNo, i64> = BTreeMap::new();
        for b in a.bids.values() {
            *guarantees.entry(b.account).or_insert(0) += guarantee(b.price, b.quantity);
        }
        // What each share sells: the sold quantity split in proportion to the shares (largest
        // remainder, earlier shares first on equal remainders), so each jurisdiction sells and is
        // paid for its part.
        let sold_per_share = split_sold(
            outcome.sold,
            &a.shares.iter().map(|sh| sh.quantity).collect::<Vec<_>>(),
        );
        let mut left_in_share = split_sold(
            outcome.sold,
            &a.shares.iter().map(|sh| sh.quantity).collect::<Vec<_>>(),
        );
        let mut cursor = 0usize;
        for (i, account) in bidder_of.iter().enumerate() {
            let award = outcome.bidder_awarded.get(i).copied().unwrap_or(0);
            let held = guarantees[account];
            let mut to_deliver = award;
            let mut paid = 0i64;
            while to_deliver > 0 {
                while left_in_share[cursor] == 0 {
                    cursor += 1;
                }
                let share = &a.shares[cursor];
                let chunk = to_deliver.min(left_in_share[cursor]);
                let pay = guarantee(price, chunk);
                self.cash_mut()
                    .settle(*account, share.seller, pay, 0, 0, date)
                    .expect("the bids' guarantees cover the clearing price");
                let ranges = self.move_units_pub(share.seller, *account, &share.class, chunk);
                effects.push(Effect::AuctionAward {
                    auction: auction.clone(),
                    account: self.ledger().account(*account).spec.id.clone(),
                    class: share.class.clone(),
                    quantity: chunk,
                    paid_minor: pay,
                    ranges,
                });
                left_in_share[cursor] -= chunk;
                to_deliver -= chunk;
                paid += pay;
            }
            if held > paid {
                self.cash_mut()
                    .release(*account, held - paid)
                    .expect("reserved as guarantees");
            }
        }
        // Suspended bidders' bids took no part: their guarantees go back in full.
        for (account, held) in &guarantees {
            if !bidder_of.contains(account) {
                self.cash_mut()
                    .release(*account, *held)
                    .expect("reserved as guarantees");
            }
        }
        // Sold units left the auction accounts above; unsold ones stay in them, free again.
        for share in &a.shares {
            let key = (share.seller, share.class.clone());
            *self
                .exchange_mut()
                .reserved_units
                .get_mut(&key)
                .expect("reserved at creation") -= share.quantity;
        }
        self.exchange_mut().reserved_units.retain(|_, q| *q > 0);
        if a.unsold == UnsoldRule::ReturnToGovernment {
            for (share, sold) in a.shares.iter().zip(&sold_per_share) {
                let back = share.quantity - sold;
                if back == 0 {
                    continue;
                }
                let gov = self
                    .system_account_pub(
                        &share.class.jurisdiction,
                        AccountKind::GovernmentHolding,
                        "auction",
                    )
                    .map_err(|v| vec![v])?;
                let ranges = self.move_units_pub(share.seller, gov, &share.class, back);
                effects.push(Effect::Moved {
                    from: self.ledger().account(share.seller).spec.id.clone(),
                    to: self.ledger().account(gov).spec.id.clone(),
                    class: share.class.clone(),
                    ranges,
                });
            }
        }
        let report = PublicReport::new(&a.rules, &outcome);
        effects.push(Effect::AuctionCleared {
            auction: auction.clone(),
            clearing_price_minor: outcome.clearing_price_minor,
            sold: outcome.sold,
            seed: outcome.seed,
        });
        let awards: BTreeMap<AccountNo, u64> = bidder_of
            .iter()
            .enumerate()
            .map(|(i, account)| {
                (
                    *account,
                    outcome.bidder_awarded.get(i).copied().unwrap_or(0),
                )
            })
            .collect();
        let record = self.auctions_mut().by_ref.get_mut(auction).expect("exists");
        record.result = Some(report);
        record.awards = awards;
        Ok(effects)
    }
}

/// Splits `sold` over shares in proportion to their quantities, in whole units, by the largest
/// remainder (earlier shares first on equal remainders). The parts add up to `sold`.
fn split_sold(sold: u64, shares: &[u64]) -> Vec<u64> {
    let total: u128 = shares.iter().map(|q| u128::from(*q)).sum();
    if total == 0 {
        return vec![0; shares.len()];
    }
    let exact: Vec<(u64, u128)> = shares
        .iter()
        .map(|q| {
            let n = u128::from(sold) * u128::from(*q);
            ((n / total) as u64, n % total)
        })
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|(base, _)| *base).collect();
    let mut left = sold - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        if parts[i] < shares[i] {
            parts[i] += 1;
            left -= 1;
        }
    }
    parts
}

#[cfg(test)]
mod split_tests {
    #[test]
    fn sold_splits_in_proportion_and_adds_up() {
        // 1,000 sold of 2,000 + 1,000 offered: 666.67 and 333.33 -> 667 and 333.
        assert_eq!(super::split_sold(1_000, &[2_000, 1_000]), vec![667, 333]);
        assert_eq!(
            super::split_sold(3_000, &[2_000, 1_000]),
            vec![2_000, 1_000]
        );
        assert_eq!(super::split_sold(0, &[5, 5]), vec![0, 0]);
        // Equal remainders: the earlier share first.
        assert_eq!(super::split_sold(1, &[1, 1]), vec![1, 0]);
    }
}
