use crate::Ledger;
use std::collections::BTreeMap;
use yrd_types::{AccountKind, SerialRange, UnitClass};

/// Where the units of one class are, by account category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassTotals {
    /// Units ever issued.
    pub issued: u64,
    /// Units in live (non-terminal) accounts.
    pub held: u64,
    /// Units in surrender accounts.
    pub surrendered: u64,
    /// Units in voluntary cancellation accounts.
    pub cancelled: u64,
    /// Units in deletion accounts.
    pub deleted: u64,
}

/// One broken ledger invariant, named precisely enough to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditFinding {
    /// issued != held + surrendered + cancelled + deleted for a class.
    ConservationBroken {
        /// The class.
        class: UnitClass,
        /// The totals found.
        totals: ClassTotals,
    },
    /// Two blocks of a class overlap (in one account or across accounts).
    SerialOverlap {
        /// The class.
        class: UnitClass,
        /// First overlapping block.
        first: SerialRange,
        /// Second overlapping block.
        second: SerialRange,
    },
    /// Serials of `1..=issued` that no account holds, or serials above `issued`.
    SerialGap {
        /// The class.
        class: UnitClass,
        /// The missing or excess serials.
        range: SerialRange,
    },
    /// An account's recorded quantity differs from the sum of its blocks.
    QuantityMismatch {
        /// The account.
        account: String,
        /// The class.
        class: UnitClass,
        /// Recorded quantity.
        recorded: u64,
        /// Sum of block lengths.
        in_blocks: u64,
    },
}

impl std::fmt::Display for AuditFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditFinding::ConservationBroken { class, totals: t } => write!(
                f,
                "conservation broken for {class}: issued {} != held {} + surrendered {} + cancelled {} + deleted {}",
                t.issued, t.held, t.surrendered, t.cancelled, t.deleted
            ),
            AuditFinding::SerialOverlap {
                class,
                first,
                second,
            } => {
                write!(f, "serial blocks {first} and {second} of {class} overlap")
            }
            AuditFinding::SerialGap { class, range } => {
                write!(f, "serials {range} of {class} are not held exactly once")
            }
            AuditFinding::QuantityMismatch {
                account,
                class,
                recorded,
                in_blocks,
            } => write!(
                f,
                "account {account} records {recorded} units of {class} but its blocks hold {in_blocks}"
            ),
        }
    }
}

impl Ledger {
    /// Totals of every class by category, in class order.
    pub fn class_totals(&self) -> Vec<(UnitClass, ClassTotals)> {
        let mut totals: Vec<ClassTotals> = self
            .classes
            .iter()
            .map(|c| ClassTotals {
                issued: c.issued,
                ..Default::default()
            })
            .collect();
        for account in &self.accounts {
            for (class, holding) in &account.holdings {
                let t = &mut totals[class.0 as usize];
                let slot = match account.spec.kind {
                    AccountKind::Surrender => &mut t.surrendered,
                    AccountKind::Cancellation => &mut t.cancelled,
                    AccountKind::Deletion => &mut t.deleted,
                    _ => &mut t.held,
                };
                *slot += holding.quantity();
            }
        }
        self.classes
            .iter()
            .map(|c| c.class.clone())
            .zip(totals)
            .collect()
    }

    /// Checks every ledger invariant from the blocks themselves: per class, conservation, serial
    /// blocks disjoint and covering exactly `1..=issued`; per holding, the recorded quantity equals
    /// its blocks. Returns every finding (empty when the ledger is sound).
    pub fn audit(&self) -> Vec<AuditFinding> {
        let mut findings = Vec::new();
        for (class, totals) in self.class_totals() {
            let accounted = [
                totals.held,
                totals.surrendered,
                totals.cancelled,
                totals.deleted,
            ]
            .iter()
            .try_fold(0u64, |sum, x| sum.checked_add(*x));
            if accounted != Some(totals.issued) {
                findings.push(AuditFinding::ConservationBroken { class, totals });
            }
        }
        let mut blocks_by_class: BTreeMap<u32, Vec<SerialRange>> = BTreeMap::new();
        for account in &self.accounts {
            for (class, holding) in &account.holdings {
                let in_blocks: u64 = holding.blocks().map(|b| b.len()).sum();
                if in_blocks != holding.quantity() {
                    findings.push(AuditFinding::QuantityMismatch {
                        account: account.spec.id.to_string(),
                        class: self.classes[class.0 as usize].class.clone(),
                        recorded: holding.quantity(),
                        in_blocks,
                    });
                }
                blocks_by_class
                    .entry(class.0)
                    .or_default()
                    .extend(holding.blocks());
            }
        }
        for (i, record) in self.classes.iter().enumerate() {
            let mut blocks = blocks_by_class.remove(&(i as u32)).unwrap_or_default();
            blocks.sort_unstable();
            check_partition(&record.class, record.issued, &blocks, &mut findings);
        }
        findings
    }

    /// Fails with the first finding, for callers that only need a yes/no.
    pub fn assert_sound(&self) -> Result<(), String> {
        match self.audit().first() {
            None => Ok(()),
            Some(f) => Err(f.to_string()),
        }
    }
}

/// Sorted `blocks` must tile `1..=issued` exactly.
fn check_partition(
    class: &UnitClass,
    issued: u64,
    blocks: &[SerialRange],
    out: &mut Vec<AuditFinding>,
) {
    let mut next = 1u64;
    let mut previous: Option<SerialRange> = None;
    for b in blocks {
        if b.first < next {
            if let Some(p) = previous {
                out.push(AuditFinding::SerialOverlap {
                    class: class.clone(),
                    first: p,
                    second: *b,
                });
            }
        } else if b.first > next {
            out.push(AuditFinding::SerialGap {
                class: class.clone(),
                range: SerialRange {
                    first: next,
                    last: b.first - 1,
                },
            });
        }
        next = next.max(b.last.saturating_add(1));
        previous = Some(*b);
    }
    if next <= issued {
        out.push(AuditFinding::SerialGap {
            class: class.clone(),
            range: SerialRange {
                first: next,
                last: issued,
            },
        });
    } else if next > issued + 1 {
        out.push(AuditFinding::SerialGap {
            class: class.clone(),
            range: SerialRange {
                first: issued + 1,
                last: next - 1,
            },
        });
    }
}
