//! `yrd-ets auction ...`: offline clearing of a sealed-bid uniform-price auction from a bids CSV.

use crate::output::{table, thousands};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use yrd_auction::{
    AuctionRules, CostContainmentReserve, EmissionsContainmentReserve, Outcome, PriceSetBy,
    PublicReport, Ratio, TieRule, UnderSubscription,
};

/// The auction subcommands.
#[derive(Subcommand)]
pub enum AuctionCommand {
    /// Clears a sealed-bid uniform-price auction from `bidder,group,price,quantity` (price in the
    /// currency's minor unit per allowance, quantity in allowances) and prints the clearing price
    /// and each bidder's award.
    Clear {
        /// The bids CSV, header `bidder,group,price,quantity`.
        bids: PathBuf,
        /// Allowances offered (a whole number of lots).
        #[arg(long)]
        supply: u64,
        /// Lot size (RGGI, CA-QC 1000; EEX 500).
        #[arg(long)]
        lot: u64,
        /// Reserve price, minor units per allowance: nothing sells below it.
        #[arg(long)]
        reserve_price: i64,
        /// Purchase limit per bidder group, percent of the supply (1-100).
        #[arg(long)]
        purchase_limit_pct: Option<u32>,
        /// Tie rule at the clearing price.
        #[arg(long, value_enum, default_value_t = Tie::Random)]
        tie: Tie,
        /// Seed of the tie draw, published with the results.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Cost containment reserve trigger price, minor units (RGGI).
        #[arg(long, requires = "ccr_quantity")]
        ccr_trigger: Option<i64>,
        /// Cost containment reserve quantity, allowances.
        #[arg(long, requires = "ccr_trigger")]
        ccr_quantity: Option<u64>,
        /// Emissions containment reserve trigger price, minor units (RGGI).
        #[arg(long, requires = "ecr_withheld_pct")]
        ecr_trigger: Option<i64>,
        /// Largest share of the supply the ECR may withhold, percent.
        #[arg(long, requires = "ecr_trigger")]
        ecr_withheld_pct: Option<u32>,
        /// What happens when demand at or above the reserve does not cover the supply.
        #[arg(long, value_enum, default_value_t = Under::SellBids)]
        under_subscription: Under,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Results of an auction run in the registry: the public report (no bidder identities), or
    /// its state while bidding is open.
    Results {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Auction reference.
        #[arg(long)]
        auction: String,
        /// The administrator's full record: every sealed bid and each bidder's award.
        #[arg(long)]
        full: bool,
    },
}

/// `--tie`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Tie {
    /// EEX: tied bids filled in a random order drawn from the seed.
    Random,
    /// CA-QC: pro rata in whole lots, remainder lots by a draw from the seed.
    ProRata,
}

/// `--under-subscription`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Under {
    /// EU: cancel the auction.
    Cancel,
    /// CA-QC, RGGI: sell what was bid at or above the reserve, at the reserve price.
    SellBids,
}

/// `--json` output: the three agreed keys first, then the rest of the public figures.
#[derive(Serialize)]
struct JsonOutcome<'a> {
    clearing_price: Option<i64>,
    sold: u64,
    awards: BTreeMap<&'a str, u64>,
    price_set_by: PriceSetBy,
    quantity_offered: u64,
    unsold: u64,
    ccr_released: u64,
    ecr_withheld: u64,
    cancelled: bool,
    bidders: u32,
    winners: u32,
    bid_to_cover: Ratio,
    seed: u64,
}

/// Runs an auction subcommand.
pub fn run(command: AuctionCommand) -> Result<ExitCode> {
    if let AuctionCommand::Results {
        data_dir,
        auction,
        full,
    } = &command
    {
        return results(data_dir, auction, *full);
    }
    let AuctionCommand::Clear {
        bids,
        supply,
        lot,
        reserve_price,
        purchase_limit_pct,
        tie,
        seed,
        ccr_trigger,
        ccr_quantity,
        ecr_trigger,
        ecr_withheld_pct,
        under_subscription,
        json,
    } = command
    else {
        unreachable!("results returned above")
    };
    let rules = AuctionRules {
        supply,
        lot,
        reserve_price_minor: reserve_price,
        purchase_limit_pct,
        tie: match tie {
            Tie::Random => TieRule::Random,
            Tie::ProRata => TieRule::ProRata,
        },
        seed,
        under_subscription: match under_subscription {
            Under::Cancel => UnderSubscription::Cancel,
            Under::SellBids => UnderSubscription::SellBids,
        },
        ccr: ccr_trigger
            .zip(ccr_quantity)
            .map(|(trigger_price_minor, quantity)| CostContainmentReserve {
                trigger_price_minor,
                quantity,
            }),
        ecr: ecr_trigger
            .zip(ecr_withheld_pct)
            .map(
                |(trigger_price_minor, withheld_pct)| EmissionsContainmentReserve {
                    trigger_price_minor,
                    withheld_pct,
                },
            ),
    };
    // Rules first: a bad lot size would make every bid look wrong.
    rules.validate()?;
    let file = std::fs::File::open(&bids).with_context(|| format!("{}", bids.display()))?;
    let book = yrd_auction::read_bids_csv(std::io::BufReader::new(file), lot)
        .with_context(|| format!("{}", bids.display()))?;
    let outcome = yrd_auction::clear(&book, &rules)?;
    let awards: BTreeMap<&str, u64> = book
        .bidders()
        .iter()
        .map(String::as_str)
        .zip(outcome.bidder_awarded.iter().copied())
        .collect();
    if json {
        let out = JsonOutcome {
            clearing_price: outcome.clearing_price_minor,
            sold: outcome.sold,
            awards,
            price_set_by: outcome.price_set_by,
            quantity_offered: outcome.quantity_offered,
            unsold: outcome.unsold,
            ccr_released: outcome.ccr_released,
            ecr_withheld: outcome.ecr_withheld,
            cancelled: outcome.cancelled,
            bidders: outcome.bidders,
            winners: outcome.winners,
            bid_to_cover: outcome.bid_to_cover,
            seed: outcome.seed,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_tables(&book, &rules, &outcome, &awards);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tables(
    book: &yrd_auction::BidBook,
    rules: &AuctionRules,
    outcome: &Outcome,
    awards: &BTreeMap<&str, u64>,
) {
    let report = PublicReport::new(rules, outcome);
    let price = match report.clearing_price_minor {
        Some(p) => p.to_string(),
        None if report.cancelled => "none (auction cancelled)".to_string(),
        None => "none (nothing sold)".to_string(),
    };
    let mut summary = table(&["result", "value"]);
    for (name, value) in [
        ("clearing price (minor units)", price),
        ("price set by", format!("{:?}", report.price_set_by)),
        ("quantity offered", thousands(report.quantity_offered)),
        ("sold", thousands(report.sold)),
        ("unsold", thousands(report.unsold)),
        ("CCR released", thousands(report.ccr_released)),
        ("ECR withheld", thousands(report.ecr_withheld)),
        ("bidders", report.bidders.to_string()),
        ("winners", report.winners.to_string()),
        ("bid-to-cover", report.bid_to_cover.to_string()),
        ("seed", report.seed.to_string()),
    ] {
        summary.add_row(vec![name.to_string(), value]);
    }
    println!("{summary}");
    let index: BTreeMap<&str, usize> = book
        .bidders()
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), i))
        .collect();
    let mut t = table(&["bidder", "group", "award"]);
    for (bidder, award) in awards {
        let group = &book.groups()[book.bidder_groups()[index[bidder]] as usize];
        t.add_row(vec![bidder.to_string(), group.clone(), thousands(*award)]);
    }
    println!("{t}");
}

/// `yrd-ets auction results`: the published result of a registry auction.
fn results(data_dir: &std::path::Path, auction: &str, full: bool) -> Result<ExitCode> {
    let registry = crate::store::open_read_only(data_dir)?;
    let reference = yrd_types::OrderRef::new(auction)?;
    let Some(a) = registry.state().auctions().get(&reference) else {
        anyhow::bail!("no auction {reference} in {}", data_dir.display());
    };
    if full {
        let (bids, awards) = a.full_record();
        let ledger = registry.state().ledger();
        let mut t =
            crate::output::table(&["bid", "bidder", "group", "price", "quantity", "suspended"]);
        for b in bids {
            t.add_row(vec![
                b.reference.to_string(),
                ledger.account(b.account).spec.id.to_string(),
                b.group,
                b.price_minor.to_string(),
                b.quantity.to_string(),
                b.suspended.to_string(),
            ]);
        }
        println!("sealed bids of auction {reference} (administrator's record):\n{t}");
        let mut t = crate::output::table(&["bidder", "awarded"]);
        for (account, award) in awards {
            t.add_row(vec![
                ledger.account(*account).spec.id.to_string(),
                award.to_string(),
            ]);
        }
        println!("awards:\n{t}");
    }
    match &a.result {
        Some(report) => println!("{}", serde_json::to_string_pretty(report)?),
        None => {
            let (qualified, bids) = a.participation();
            println!(
                "auction {reference}: {} allowances of {} offered, reserve price {}; bidding open until {}; \
                 {qualified} qualified bidders, {bids} sealed bids",
                a.rules().supply,
                a.class(),
                a.rules().reserve_price_minor,
                a.closes()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
