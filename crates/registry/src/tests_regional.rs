//! Cross-regional rules and the call market, end to end through `Registry::submit`: every
//! expected figure below is worked by hand from the shipped YRD geography (config/yrd.toml) or
//! from the shared river case (../shared/cases/spatial/river3_two_sections.json).

use super::*;
use crate::audit::audit;
use crate::reports::{net_flows, pair_balances};
use chrono::NaiveDate;
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, OrderRef, TransactionId, UnitClass,
    UnitTypeCode, Vintage,
};

const YRD: &str = include_str!("../../../config/yrd.toml");

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
}
fn acc(s: &str) -> AccountId {
    AccountId::new(s).unwrap()
}
fn jur(s: &str) -> JurisdictionCode {
    JurisdictionCode::new(s).unwrap()
}
fn ut(s: &str) -> UnitTypeCode {
    UnitTypeCode::new(s).unwrap()
}
fn rf(s: &str) -> OrderRef {
    OrderRef::new(s).unwrap()
}
fn class(j: &str, unit_type: &str) -> UnitClass {
    UnitClass {
        jurisdiction: jur(j),
        unit_type: ut(unit_type),
        vintage: Vintage::new(2024).unwrap(),
    }
}

struct Market {
    r: Registry<MemoryStore>,
    n: u32,
}

impl Market {
    fn new(config: &str) -> Self {
        let r = Registry::create(MemoryStore::new(), config, "test.toml", day(1)).unwrap();
        Market { r, n: 0 }
    }

    fn submit_on(&mut self, date: NaiveDate, command: Command) -> Result<Vec<Effect>, Rejection> {
        self.n += 1;
        let s = Submission {
            id: TransactionId::new(format!("t{}", self.n)).unwrap(),
            date,
            command,
        };
        match self.r.submit(s).unwrap() {
            Ok(receipt) => Ok(receipt.effects),
            Err(rejection) => Err(rejection),
        }
    }

    fn ok(&mut self, command: Command) -> Vec<Effect> {
        self.submit_on(day(1), command).unwrap()
    }

    /// Refused with `code`, and nothing changed (state hash and journal length).
    fn refused(&mut self, date: NaiveDate, command: Command, code: RuleCode) -> Rejection {
        let before = (self.r.state().state_hash(), self.r.state().last_seq());
        let rejection = self.submit_on(date, command).unwrap_err();
        assert!(rejection.has(code), "expected {code}, got {rejection}");
        let after = (self.r.state().state_hash(), self.r.state().last_seq());
        assert_eq!(before, after, "a refusal changes nothing");
        rejection
    }

    /// An operator holding account in `area` with an installation of `sector`, holding
    /// `quantity` units of `unit_type` 2024 allocated by its jurisdiction.
    fn located(
        &mut self,
        id: &str,
        j: &str,
        area: &str,
        sector: &str,
        unit_type: &str,
        quantity: u64,
    ) {
        self.ok(Command::OpenAccount {
            account: acc(id),
            kind: AccountKind::OperatorHolding,
            jurisdiction: jur(j),
            holder_name: format!("{id} Co"),
        });
        self.ok(Command::RegisterInstallation {
            installation: InstallationId::new(format!("I-{id}")).unwrap(),
            account: acc(id),
            name: format!("{id} plant"),
            sector: sector.into(),
            first_year: 2024,
        });
        self.ok(Command::SetAccountArea {
            account: acc(id),
            area: area.into(),
        });
        if quantity > 0 {
            self.ok(Command::Issue {
                jurisdiction: jur(j),
                unit_type: ut(unit_type),
                vintage: Vintage::new(2024).unwrap(),
                quantity,
            });
            self.ok(Command::Allocate {
                installation: InstallationId::new(format!("I-{id}")).unwrap(),
                unit_type: ut(unit_type),
                vintage: Vintage::new(2024).unwrap(),
                quantity,
            });
        }
    }

    fn held(&self, id: &str, c: &UnitClass) -> u64 {
        let no = self.r.state().ledger().find(&acc(id)).unwrap();
        self.r.state().ledger().quantity(no, c)
    }

    fn cash(&self, id: &str) -> (i64, i64) {
        let no = self.r.state().ledger().find(&acc(id)).unwrap();
        let b = self.r.state().cash().balance(no);
        (b.available + b.pending.values().sum::<i64>(), b.reserved)
    }
}

fn transfer(from: &str, to: &str, c: UnitClass, quantity: u64) -> Command {
    Command::Transfer {
        from: acc(from),
        to: acc(to),
        class: c,
        quantity,
    }
}

#[test]
fn account_areas_are_checked() {
    let mut m = Market::new(YRD);
    m.located("WJ-1", "CN-JS", "CN-JS-SZ-WJ", "chemicals", "COD", 0);
    m.refused(
        day(1),
        Command::SetAccountArea {
            account: acc("WJ-1"),
            area: "CN-XX-NOWHERE".into(),
        },
        RuleCode::UnknownArea,
    );
    // Jiashan is in Zhejiang; WJ-1 is administered by Jiangsu.
    m.refused(
        day(1),
        Command::SetAccountArea {
            account: acc("WJ-1"),
            area: "CN-ZJ-JX-JS".into(),
        },
        RuleCode::AreaNotInJurisdiction,
    );
    m.refused(
        day(1),
        Command::SetAccountArea {
            account: acc("CN-JS-GOV"),
            area: "CN-JS".into(),
        },
        RuleCode::InvalidField,
    );
}

#[test]
fn water_rights_cross_areas_at_the_jiaxing_ratio() {
    let mut m = Market::new(YRD);
    m.located("WJ-1", "CN-JS", "CN-JS-SZ-WJ", "chemicals", "COD", 5_000);
    m.located("JS-1", "CN-ZJ", "CN-ZJ-JX-JS", "textiles-dyeing", "COD", 0);
    let cod = class("CN-JS", "COD");
    let effects = m.ok(transfer("WJ-1", "JS-1", cod.clone(), 1_000));
    // 3:2 - floor(1,000 x 2 / 3) = 666 credited, 334 retired.
    assert_eq!(m.held("JS-1", &cod), 666);
    assert_eq!(m.held("WJ-1", &cod), 4_000);
    assert_eq!(m.held("CN-JS-CANCELLATION", &cod), 334);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::CrossRegionalTransfer {
            credited: 666,
            retired: 334,
            ratio: Some(_),
            ..
        }
    )));
    let regional = m.r.state().regional();
    assert_eq!(regional.net_inflow("CN-JS-SZ-WJ", &ut("COD")), -1_000);
    assert_eq!(regional.net_inflow("CN-ZJ-JX-JS", &ut("COD")), 666);
    // Suzhou (Wujiang's prefecture) has sent out what Wujiang sent.
    let geo = m.r.state().config().geography.clone().unwrap();
    assert_eq!(
        regional.net_inflow_within(&geo, "CN-JS-SZ", &ut("COD")),
        -1_000
    );
    // The net-flow ledger: 666 kg of Jiangsu COD held in Zhejiang.
    let flows = net_flows(m.r.state());
    assert_eq!(flows.len(), 1);
    assert_eq!(
        (
            flows[0].issuer.as_str(),
            flows[0].user.as_str(),
            flows[0].held
        ),
        ("CN-JS", "CN-ZJ", 666)
    );
    let pairs = pair_balances(&flows);
    assert_eq!(
        (
            pairs[0].first.as_str(),
            pairs[0].second.as_str(),
            pairs[0].net
        ),
        ("CN-JS", "CN-ZJ", 666)
    );
    assert!(audit(m.r.store()).unwrap().is_clean());
}

#[test]
fn water_rights_stay_in_their_basin() {
    let mut m = Market::new(YRD);
    // Changzhou Binjiang drains to the Yangtze only; Huzhou to Taihu only.
    m.located("BJ-1", "CN-JS", "CN-JS-CZ-BJ", "chemicals", "COD", 1_000);
    m.located("HU-1", "CN-ZJ", "CN-ZJ-HU", "chemicals", "COD", 0);
    let r = m.refused(
        day(1),
        transfer("BJ-1", "HU-1", class("CN-JS", "COD"), 300),
        RuleCode::CrossBasinWaterTransfer,
    );
    assert!(r.to_string().contains("CN-JS-CZ-BJ"), "{r}");
}

#[test]
fn no_trades_between_industry_and_agriculture() {
    let mut m = Market::new(YRD);
    m.located("WJ-1", "CN-JS", "CN-JS-SZ-WJ", "chemicals", "COD", 1_000);
    m.located("FARM", "CN-JS", "CN-JS-SZ-KS", "livestock", "COD", 0);
    m.refused(
        day(1),
        transfer("WJ-1", "FARM", class("CN-JS", "COD"), 300),
        RuleCode::IndustryAgricultureTransfer,
    );
    // An installation whose sector the geography does not know cannot trade governed rights.
    m.located("ODD", "CN-JS", "CN-JS-SZ-KS", "steel", "COD", 0);
    m.refused(
        day(1),
        transfer("WJ-1", "ODD", class("CN-JS", "COD"), 300),
        RuleCode::UnknownSector,
    );
}

#[test]
fn power_sector_air_rights_are_ring_fenced() {
    let mut m = Market::new(YRD);
    m.located("PWR", "CN-JS", "CN-JS-WX", "power", "SO2", 1_000);
    m.located("CHEM", "CN-JS", "CN-JS-SZ", "chemicals", "SO2", 0);
    m.refused(
        day(1),
        transfer("PWR", "CHEM", class("CN-JS", "SO2"), 100),
        RuleCode::PowerSectorRingFence,
    );
}

#[test]
fn air_rights_leave_their_airshed_only_with_both_approvals() {
    let mut m = Market::new(YRD);
    // Guangde (AIR-AH) -> Qingpu (AIR-SH, AIR-DZ): different airsheds.
    m.located(
        "GD-1",
        "CN-AH",
        "CN-AH-XC-GD",
        "printing-coating",
        "VOCS",
        2_000,
    );
    m.located("QP-1", "CN-SH", "CN-SH-QP", "printing-coating", "VOCS", 0);
    let voc = class("CN-AH", "VOCS");
    m.refused(
        day(1),
        transfer("GD-1", "QP-1", voc.clone(), 500),
        RuleCode::CrossAirshedNeedsApproval,
    );
    let approve = |j: &str| Command::ApproveCrossRegionalTransfer {
        approval: rf("AP-1"),
        jurisdiction: jur(j),
        from: acc("GD-1"),
        to: acc("QP-1"),
        class: voc.clone(),
        quantity: 500,
    };
    // Zhejiang administers neither party.
    m.refused(day(1), approve("CN-ZJ"), RuleCode::ApprovalRule);
    m.ok(approve("CN-AH"));
    m.refused(day(1), approve("CN-AH"), RuleCode::ApprovalRule);
    // One approval is not enough.
    m.refused(
        day(1),
        transfer("GD-1", "QP-1", voc.clone(), 500),
        RuleCode::CrossAirshedNeedsApproval,
    );
    let effects = m.ok(approve("CN-SH"));
    assert!(matches!(
        effects[0],
        Effect::CrossRegionalTransferApproved { complete: true, .. }
    ));
    // The approval covers exactly 500: 400 is still refused.
    m.refused(
        day(1),
        transfer("GD-1", "QP-1", voc.clone(), 400),
        RuleCode::CrossAirshedNeedsApproval,
    );
    let effects = m.ok(transfer("GD-1", "QP-1", voc.clone(), 500));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::CrossRegionalTransfer {
            approval: Some(_),
            credited: 500,
            retired: 0,
            ..
        }
    )));
    assert_eq!(m.held("QP-1", &voc), 500);
    assert!(m.r.state().regional().approval(&rf("AP-1")).unwrap().used);
    // Used up: the same transfer again needs a new approval.
    m.refused(
        day(1),
        transfer("GD-1", "QP-1", voc, 500),
        RuleCode::CrossAirshedNeedsApproval,
    );
}

#[test]
fn a_non_attainment_area_only_buys_back_what_it_sold_at_two_to_one() {
    let mut m = Market::new(YRD);
    // Changzhou misses its NOx target; Wuxi does not; both in the Jiangsu airshed.
    m.located("CZ-1", "CN-JS", "CN-JS-CZ", "chemicals", "NOX", 3_000);
    m.located("WX-1", "CN-JS", "CN-JS-WX", "chemicals", "NOX", 3_000);
    let nox = class("CN-JS", "NOX");
    m.refused(
        day(1),
        transfer("WX-1", "CZ-1", nox.clone(), 1_000),
        RuleCode::NonAttainmentIncrease,
    );
    // Changzhou sells 1,000 (no ratio out of a non-attainment area): its inflow is -1,000.
    m.ok(transfer("CZ-1", "WX-1", nox.clone(), 1_000));
    assert_eq!(
        m.r.state().regional().net_inflow("CN-JS-CZ", &ut("NOX")),
        -1_000
    );
    // Buying back: 2:1 into a non-attainment area, 2,000 delivered credit 1,000 -> inflow 0.
    m.ok(transfer("WX-1", "CZ-1", nox.clone(), 2_000));
    assert_eq!(m.held("CZ-1", &nox), 3_000);
    assert_eq!(m.held("CN-JS-CANCELLATION", &nox), 1_000);
    assert_eq!(m.r.state().regional().net_inflow("CN-JS-CZ", &ut("NOX")), 0);
    // Any more would raise its total.
    m.refused(
        day(1),
        transfer("WX-1", "CZ-1", nox.clone(), 2),
        RuleCode::NonAttainmentIncrease,
    );
    // 1 kg at 2:1 credits nothing.
    m.refused(
        day(1),
        transfer("WX-1", "CZ-1", nox, 1),
        RuleCode::RatioCreditsNothing,
    );
}

#[test]
fn carbon_allowances_and_unlocated_accounts_are_not_governed() {
    let mut m = Market::new(YRD);
    m.located("BJ-1", "CN-JS", "CN-JS-CZ-BJ", "chemicals", "CEA", 1_000);
    m.located("HU-1", "CN-ZJ", "CN-ZJ-HU", "chemicals", "CEA", 0);
    m.ok(transfer("BJ-1", "HU-1", class("CN-JS", "CEA"), 300));
    assert_eq!(m.held("HU-1", &class("CN-JS", "CEA")), 300);
}

/// The shared river case as a market geography: P1 (Anhui), P2 (Jiangsu), P3 (Shanghai) on one
/// river; R1 headroom 0 t, R2 headroom 15 t; coefficients per tonne as in the case.
fn river3_config() -> String {
    let base = YRD.split("[[geography.basins]]").next().unwrap();
    format!(
        r#"{base}
[[geography.basins]]
code = "RIVER"
name = "The river"

[[geography.airsheds]]
code = "AIR"
name = "The airshed"

[[geography.sectors]]
code = "chemicals"
name = "Chemicals"
class = "industry"

[[geography.areas]]
code = "P1"
name = "Province 1"
jurisdiction = "CN-AH"
level = "prefecture"
basins = ["RIVER"]
airsheds = ["AIR"]

[[geography.areas]]
code = "P2"
name = "Province 2"
jurisdiction = "CN-JS"
level = "prefecture"
basins = ["RIVER"]
airsheds = ["AIR"]

[[geography.areas]]
code = "P3"
name = "Province 3"
jurisdiction = "CN-SH"
level = "prefecture"
basins = ["RIVER"]
airsheds = ["AIR"]

[[geography.receptors]]
code = "R1"
name = "Section 1"
kind = "river_section"
pollutant = "COD"
basin = "RIVER"
unit = "t/yr"
standard = 100.0
background = 40.0
current_load = 60.0
illustrative = true
source = "shared case river3_two_sections"
[geography.receptors.coefficients]
P1 = 0.6
P2 = 1.0

[[geography.receptors]]
code = "R2"
name = "Section 2"
kind = "river_section"
pollutant = "COD"
basin = "RIVER"
unit = "t/yr"
standard = 100.0
background = 40.0
current_load = 45.0
illustrative = true
source = "shared case river3_two_sections"
[geography.receptors.coefficients]
P1 = 0.3
P2 = 0.5
P3 = 1.0

[geography.rules]
water_pollutants = ["COD"]
air_pollutants = []
water_within_basin = true
air_within_airshed = true
no_industry_agriculture = true
power_air_ring_fenced = true
non_attainment_no_increase = true
ratios = []
"#
    )
}

fn step(id: &str, account: &str, side: OrderSide, tonnes: u64, cny_per_t: i64) -> Command {
    Command::SubmitCallStep {
        market: rf("CM-1"),
        step: rf(id),
        account: acc(account),
        side,
        class: None,
        quantity: tonnes * 1_000,
        price_minor: cny_per_t * 100,
    }
}

#[test]
fn the_river_call_market_clears_and_settles_at_locational_prices() {
    let mut m = Market::new(&river3_config());
    m.located("S1", "CN-AH", "P1", "chemicals", "COD", 20_000);
    m.located("B1", "CN-JS", "P2", "chemicals", "COD", 0);
    m.located("S2", "CN-JS", "P2", "chemicals", "COD", 5_000);
    m.located("B2", "CN-SH", "P3", "chemicals", "COD", 0);
    m.located("S3", "CN-SH", "P3", "chemicals", "COD", 10_000);
    for (id, amount) in [("B1", 1_000_000), ("B2", 1_000_000)] {
        m.ok(Command::Deposit {
            account: acc(id),
            amount_minor: amount,
        });
    }
    m.ok(Command::CreateCallMarket {
        market: rf("CM-1"),
        operator: jur("CN-JS"),
        pollutant: ut("COD"),
        vintage: Vintage::new(2024).unwrap(),
        areas: vec!["P1".into(), "P2".into(), "P3".into()],
        receptors: vec!["R1".into(), "R2".into()],
        lot: 1_000,
        closes: day(5),
    });
    // The case's steps: lot = 1 t, prices in fen per tonne.
    for c in [
        step("s1a", "S1", OrderSide::Sell, 10, 20),
        step("s1b", "S1", OrderSide::Sell, 10, 50),
        step("b1", "B1", OrderSide::Buy, 10, 100),
        step("s2", "S2", OrderSide::Sell, 5, 70),
        step("b2a", "B2", OrderSide::Buy, 10, 90),
        step("b2b", "B2", OrderSide::Buy, 10, 40),
        step("s3", "S3", OrderSide::Sell, 10, 60),
    ] {
        m.submit_on(day(2), c).unwrap();
    }
    // Guarantees (available, reserved): B1 10 x 10,000; B2 10 x 9,000 + 10 x 4,000.
    assert_eq!(m.cash("B1"), (900_000, 100_000));
    assert_eq!(m.cash("B2"), (870_000, 130_000));
    m.refused(
        day(5),
        Command::ClearCallMarket { market: rf("CM-1") },
        RuleCode::CallMarketRule,
    );
    m.submit_on(day(6), Command::ClearCallMarket { market: rf("CM-1") })
        .unwrap();
    let result =
        m.r.state()
            .regional()
            .call_market(&rf("CM-1"))
            .unwrap()
            .result
            .clone()
            .unwrap();
    let fill = |s: &str| result.fills[&rf(s)];
    // Expected by the case: s1a 10, s1b 0, b1 10, s2 4, b2a 10, b2b 5, s3 0.
    assert_eq!(
        [
            fill("s1a"),
            fill("s1b"),
            fill("b1"),
            fill("s2"),
            fill("b2a"),
            fill("b2b"),
            fill("s3")
        ],
        [10, 0, 10, 4, 10, 5, 0]
    );
    // pi = (42, 70, 40) CNY/t.
    assert_eq!(result.settlement_prices["P1"], 4_200);
    assert_eq!(result.settlement_prices["P2"], 7_000);
    assert_eq!(result.settlement_prices["P3"], 4_000);
    // Revenue 600 CNY; surplus 1,620 CNY.
    assert_eq!(result.operator_revenue_minor, 60_000);
    assert_eq!(result.total_surplus_minor, 162_000);
    // Buyers received new rights of their own jurisdiction and paid pi x lots.
    assert_eq!(m.held("B1", &class("CN-JS", "COD")), 10_000);
    assert_eq!(m.held("B2", &class("CN-SH", "COD")), 15_000);
    assert_eq!(m.cash("B1"), (1_000_000 - 70_000, 0));
    assert_eq!(m.cash("B2"), (1_000_000 - 60_000, 0));
    // Sellers' units were retired and paid: S1 10 t x 4,200; S2 4 t x 7,000.
    assert_eq!(m.held("S1", &class("CN-AH", "COD")), 10_000);
    assert_eq!(m.held("CN-AH-CANCELLATION", &class("CN-AH", "COD")), 10_000);
    assert_eq!(m.held("S2", &class("CN-JS", "COD")), 1_000);
    assert_eq!(m.cash("S1"), (42_000, 0));
    assert_eq!(m.cash("S2"), (28_000, 0));
    assert_eq!(m.cash("CN-JS-GOV"), (60_000, 0));
    // Area inflows (kg): P1 -10 t, P2 +6 t, P3 +15 t.
    let regional = m.r.state().regional();
    assert_eq!(regional.net_inflow("P1", &ut("COD")), -10_000);
    assert_eq!(regional.net_inflow("P2", &ut("COD")), 6_000);
    assert_eq!(regional.net_inflow("P3", &ut("COD")), 15_000);
    assert!(audit(m.r.store()).unwrap().is_clean());
    // Replaying the journal reproduces the state.
    let reopened = Registry::open(m.r.store().clone()).unwrap();
    assert_eq!(reopened.state().state_hash(), m.r.state().state_hash());
    m.refused(
        day(7),
        Command::ClearCallMarket { market: rf("CM-1") },
        RuleCode::CallMarketClosed,
    );
}

#[test]
fn call_market_steps_are_checked_and_withdrawn_cleanly() {
    let mut m = Market::new(&river3_config());
    m.located("S1", "CN-AH", "P1", "chemicals", "COD", 5_000);
    m.located("B1", "CN-JS", "P2", "chemicals", "COD", 0);
    m.ok(Command::OpenAccount {
        account: acc("NOWHERE"),
        kind: AccountKind::OperatorHolding,
        jurisdiction: jur("CN-JS"),
        holder_name: "No area".into(),
    });
    let create = |areas: Vec<&str>, receptors: Vec<&str>| Command::CreateCallMarket {
        market: rf("CM-1"),
        operator: jur("CN-JS"),
        pollutant: ut("COD"),
        vintage: Vintage::new(2024).unwrap(),
        areas: areas.into_iter().map(String::from).collect(),
        receptors: receptors.into_iter().map(String::from).collect(),
        lot: 1_000,
        closes: day(5),
    };
    m.refused(
        day(1),
        create(vec!["P1", "P9"], vec!["R1"]),
        RuleCode::UnknownArea,
    );
    m.refused(
        day(1),
        create(vec!["P1", "P2"], vec!["R9"]),
        RuleCode::CallMarketRule,
    );
    m.ok(create(vec!["P1", "P2"], vec!["R1", "R2"]));
    m.refused(
        day(2),
        step("x", "NOWHERE", OrderSide::Buy, 1, 10),
        RuleCode::UnknownArea,
    );
    // Not a whole number of lots.
    m.refused(
        day(2),
        Command::SubmitCallStep {
            market: rf("CM-1"),
            step: rf("x"),
            account: acc("S1"),
            side: OrderSide::Sell,
            class: None,
            quantity: 1_500,
            price_minor: 100,
        },
        RuleCode::CallMarketRule,
    );
    m.refused(
        day(2),
        step("x", "S1", OrderSide::Sell, 6, 10),
        RuleCode::InsufficientHoldings,
    );
    m.refused(
        day(2),
        step("x", "B1", OrderSide::Buy, 1, 10),
        RuleCode::InsufficientCash,
    );
    m.submit_on(day(2), step("s", "S1", OrderSide::Sell, 5, 10))
        .unwrap();
    // The units are reserved: they cannot be transferred meanwhile.
    m.refused(
        day(2),
        transfer("S1", "B1", class("CN-AH", "COD"), 1_000),
        RuleCode::InsufficientHoldings,
    );
    m.refused(
        day(2),
        step("s", "S1", OrderSide::Sell, 1, 10),
        RuleCode::DuplicateOrderRef,
    );
    m.refused(
        day(2),
        Command::WithdrawCallStep {
            market: rf("CM-1"),
            step: rf("s"),
            account: acc("B1"),
        },
        RuleCode::NotOrderOwner,
    );
    m.submit_on(
        day(2),
        Command::WithdrawCallStep {
            market: rf("CM-1"),
            step: rf("s"),
            account: acc("S1"),
        },
    )
    .unwrap();
    assert!(m.r.state().exchange().reserved_units.is_empty());
    m.refused(
        day(6),
        step("late", "S1", OrderSide::Sell, 1, 10),
        RuleCode::CallMarketClosed,
    );
    assert!(audit(m.r.store()).unwrap().is_clean());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Six located accounts over areas with different basins, airsheds, sectors and attainment.
    const PARTIES: [(&str, &str, &str, &str); 6] = [
        ("WJ", "CN-JS", "CN-JS-SZ-WJ", "chemicals"),
        ("JS", "CN-ZJ", "CN-ZJ-JX-JS", "textiles-dyeing"),
        ("QP", "CN-SH", "CN-SH-QP", "printing-coating"),
        ("BJ", "CN-JS", "CN-JS-CZ-BJ", "chemicals"),
        ("CZ", "CN-JS", "CN-JS-CZ", "power"),
        ("FM", "CN-JS", "CN-JS-SZ-KS", "livestock"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever transfers are tried: a refusal changes nothing; every accepted transfer
        /// between areas delivers credited + retired = quantity; the area inflows sum to minus
        /// what the ratios retired (units leave one area and only the credited part arrives);
        /// the audit is clean and replay reproduces the state.
        #[test]
        fn cross_regional_transfers_conserve_units(
            moves in prop::collection::vec((0usize..6, 0usize..6, 0usize..2, 1u64..3_000), 1..40)
        ) {
            let mut m = Market::new(YRD);
            for (id, j, area, sector) in PARTIES {
                m.located(id, j, area, sector, "COD", 5_000);
                m.ok(Command::Issue {
                    jurisdiction: jur(j), unit_type: ut("NOX"),
                    vintage: Vintage::new(2024).unwrap(), quantity: 5_000,
                });
                m.ok(Command::Allocate {
                    installation: InstallationId::new(format!("I-{id}")).unwrap(),
                    unit_type: ut("NOX"), vintage: Vintage::new(2024).unwrap(), quantity: 5_000,
                });
            }
            let mut retired_by_ratio: i128 = 0;
            for (from, to, pollutant, quantity) in moves {
                let (f, fj, _, _) = PARTIES[from];
                let (t, _, _, _) = PARTIES[to];
                let unit_type = ["COD", "NOX"][pollutant];
                let before = (m.r.state().state_hash(), m.r.state().last_seq());
                match m.submit_on(day(1), transfer(f, t, class(fj, unit_type), quantity)) {
                    Ok(effects) => {
                        for e in &effects {
                            if let Effect::CrossRegionalTransfer { credited, retired, .. } = e {
                                prop_assert_eq!(credited + retired, quantity);
                                retired_by_ratio += i128::from(*retired);
                            }
                        }
                    }
                    Err(_) => {
                        prop_assert_eq!(before, (m.r.state().state_hash(), m.r.state().last_seq()));
                    }
                }
            }
            let total_inflow: i128 = m.r.state().regional().inflows().map(|(_, _, v)| v).sum();
            prop_assert_eq!(total_inflow, -retired_by_ratio);
            prop_assert!(audit(m.r.store()).unwrap().is_clean());
            let reopened = Registry::open(m.r.store().clone()).unwrap();
            prop_assert_eq!(reopened.state().state_hash(), m.r.state().state_hash());
        }
    }
}

#[test]
fn governed_rights_move_only_between_located_accounts_with_known_sectors() {
    let mut m = Market::new(YRD);
    m.located("BJ-1", "CN-JS", "CN-JS-CZ-BJ", "chemicals", "COD", 1_000);
    m.ok(Command::OpenAccount {
        account: acc("NOA"),
        kind: AccountKind::OperatorHolding,
        jurisdiction: jur("CN-JS"),
        holder_name: "Not placed".into(),
    });
    // No area: it would be a way around the basin rule (BJ -> NOA -> Huzhou).
    m.refused(
        day(1),
        transfer("BJ-1", "NOA", class("CN-JS", "COD"), 100),
        RuleCode::UnknownArea,
    );
    // An area but no installation: no sector to judge.
    m.ok(Command::SetAccountArea {
        account: acc("NOA"),
        area: "CN-JS-SZ".into(),
    });
    m.refused(
        day(1),
        transfer("BJ-1", "NOA", class("CN-JS", "COD"), 100),
        RuleCode::UnknownSector,
    );
}

#[test]
fn approvals_must_be_for_transfers_that_need_them_and_that_they_make_lawful() {
    let mut m = Market::new(YRD);
    m.located(
        "GD-1",
        "CN-AH",
        "CN-AH-XC-GD",
        "printing-coating",
        "VOCS",
        2_000,
    );
    m.located("QP-1", "CN-SH", "CN-SH-QP", "printing-coating", "VOCS", 0);
    m.located("BJ-1", "CN-JS", "CN-JS-CZ-BJ", "chemicals", "COD", 1_000);
    m.located("HU-1", "CN-ZJ", "CN-ZJ-HU", "chemicals", "COD", 0);
    m.located(
        "JS-1",
        "CN-ZJ",
        "CN-ZJ-JX-JS",
        "printing-coating",
        "VOCS",
        0,
    );
    let approve = |reference: &str, j: &str, from: &str, to: &str, c: UnitClass| {
        Command::ApproveCrossRegionalTransfer {
            approval: rf(reference),
            jurisdiction: jur(j),
            from: acc(from),
            to: acc(to),
            class: c,
            quantity: 500,
        }
    };
    let unknown = UnitClass {
        unit_type: ut("FOO"),
        ..class("CN-AH", "VOCS")
    };
    m.refused(
        day(1),
        approve("A1", "CN-AH", "GD-1", "QP-1", unknown),
        RuleCode::UnknownUnitType,
    );
    // No approval lifts the basin rule.
    m.refused(
        day(1),
        approve("A2", "CN-JS", "BJ-1", "HU-1", class("CN-JS", "COD")),
        RuleCode::CrossBasinWaterTransfer,
    );
    // Qingpu -> Jiashan share the demonstration-zone airshed: nothing to approve.
    m.refused(
        day(1),
        approve("A3", "CN-SH", "QP-1", "JS-1", class("CN-AH", "VOCS")),
        RuleCode::ApprovalRule,
    );
}

#[test]
fn closing_an_account_with_cash_or_open_steps_is_refused() {
    let mut m = Market::new(&river3_config());
    m.located("B1", "CN-JS", "P2", "chemicals", "COD", 0);
    m.ok(Command::Deposit {
        account: acc("B1"),
        amount_minor: 1_000,
    });
    m.refused(
        day(1),
        Command::CloseAccount { account: acc("B1") },
        RuleCode::AccountNotEmpty,
    );
}

fn create_market(reference: &str, areas: &[&str], receptors: &[&str], closes: u32) -> Command {
    Command::CreateCallMarket {
        market: rf(reference),
        operator: jur("CN-JS"),
        pollutant: ut("COD"),
        vintage: Vintage::new(2024).unwrap(),
        areas: areas.iter().map(|a| a.to_string()).collect(),
        receptors: receptors.iter().map(|r| r.to_string()).collect(),
        lot: 1_000,
        closes: day(closes),
    }
}

fn step_in(
    market: &str,
    id: &str,
    account: &str,
    side: OrderSide,
    tonnes: u64,
    cny: i64,
) -> Command {
    Command::SubmitCallStep {
        market: rf(market),
        step: rf(id),
        account: acc(account),
        side,
        class: None,
        quantity: tonnes * 1_000,
        price_minor: cny * 100,
    }
}

#[test]
fn successive_call_markets_share_one_receptor_headroom() {
    let mut m = Market::new(&river3_config());
    m.located("B3", "CN-SH", "P3", "chemicals", "COD", 0);
    m.ok(Command::Deposit {
        account: acc("B3"),
        amount_minor: 1_000_000,
    });
    // P3 loads only R2 (coefficient 1, headroom 15 t/yr).
    m.ok(create_market("CM-A", &["P3"], &["R2"], 3));
    m.submit_on(day(2), step_in("CM-A", "b", "B3", OrderSide::Buy, 10, 90))
        .unwrap();
    m.submit_on(day(4), Command::ClearCallMarket { market: rf("CM-A") })
        .unwrap();
    let a =
        m.r.state()
            .regional()
            .call_market(&rf("CM-A"))
            .unwrap()
            .result
            .clone()
            .unwrap();
    // 10 t fit in 15: R2 does not bind, price 0.
    assert_eq!((a.fills[&rf("b")], a.settlement_prices["P3"]), (10, 0));
    assert_eq!(a.headroom["R2"], 15.0);
    // The second market has 15 - 10 x 1 = 5 left: 5 t fill and the bid sets the price.
    m.submit_on(day(4), create_market("CM-B", &["P3"], &["R2"], 5))
        .unwrap();
    m.submit_on(day(5), step_in("CM-B", "b", "B3", OrderSide::Buy, 10, 90))
        .unwrap();
    m.submit_on(day(6), Command::ClearCallMarket { market: rf("CM-B") })
        .unwrap();
    let b =
        m.r.state()
            .regional()
            .call_market(&rf("CM-B"))
            .unwrap()
            .result
            .clone()
            .unwrap();
    assert_eq!(b.headroom["R2"], 5.0);
    assert_eq!((b.fills[&rf("b")], b.settlement_prices["P3"]), (5, 9_000));
    assert_eq!(b.receptor_load_change["R2"], 5.0);
    assert_eq!(m.held("B3", &class("CN-SH", "COD")), 15_000);
}

#[test]
fn call_market_set_up_and_participants_are_checked() {
    let mut m = Market::new(&river3_config().replace(
        "level = \"prefecture\"\nbasins = [\"RIVER\"]\nairsheds = [\"AIR\"]\n\n[[geography.areas]]\ncode = \"P3\"",
        "level = \"prefecture\"\nbasins = [\"RIVER\"]\nairsheds = [\"AIR\"]\nnon_attainment = [\"COD\"]\n\n[[geography.areas]]\ncode = \"P3\"",
    ).replace(
        "[[geography.sectors]]",
        "[[geography.sectors]]\ncode = \"livestock\"\nname = \"Livestock\"\nclass = \"agriculture\"\n\n[[geography.sectors]]",
    ));
    // P2 misses its COD target (the replacement above marks the area before P3).
    m.located("B2", "CN-JS", "P2", "chemicals", "COD", 5_000);
    m.located("B3", "CN-SH", "P3", "chemicals", "COD", 0);
    m.located("FARM", "CN-AH", "P1", "livestock", "COD", 1_000);
    for id in ["B2", "FARM"] {
        m.ok(Command::Deposit {
            account: acc(id),
            amount_minor: 1_000_000_000_000_000,
        });
    }
    // P3 alone with R1: R1 has no coefficient for P3 - it would buy without bound.
    m.refused(
        day(1),
        create_market("CM-1", &["P3"], &["R1"], 5),
        RuleCode::CallMarketRule,
    );
    m.ok(create_market("CM-1", &["P1", "P2", "P3"], &["R1", "R2"], 5));
    m.refused(
        day(2),
        step_in("CM-1", "f", "FARM", OrderSide::Buy, 1, 10),
        RuleCode::IndustryAgricultureTransfer,
    );
    // The guarantee price x lots must fit: refused, not wrapped.
    m.refused(
        day(2),
        Command::SubmitCallStep {
            market: rf("CM-1"),
            step: rf("big"),
            account: acc("B3"),
            side: OrderSide::Buy,
            class: None,
            quantity: 4_294_967_296_000,
            price_minor: 4_294_967_296,
        },
        RuleCode::QuantityOverflow,
    );
    // P2 sold 5 t first (to P3, one basin, no ratio configured): it may buy back 5 t in all.
    m.ok(transfer("B2", "B3", class("CN-JS", "COD"), 5_000));
    m.submit_on(day(2), step_in("CM-1", "b1", "B2", OrderSide::Buy, 3, 10))
        .unwrap();
    m.refused(
        day(2),
        step_in("CM-1", "b2", "B2", OrderSide::Buy, 3, 10),
        RuleCode::NonAttainmentIncrease,
    );
    m.submit_on(day(2), step_in("CM-1", "b2", "B2", OrderSide::Buy, 2, 10))
        .unwrap();
    // Cancelling releases every guarantee; the market takes nothing more.
    m.submit_on(day(3), Command::CancelCallMarket { market: rf("CM-1") })
        .unwrap();
    assert_eq!(m.cash("B2").1, 0);
    m.refused(
        day(3),
        step_in("CM-1", "b3", "B2", OrderSide::Buy, 1, 10),
        RuleCode::CallMarketClosed,
    );
    m.refused(
        day(6),
        Command::ClearCallMarket { market: rf("CM-1") },
        RuleCode::CallMarketClosed,
    );
    assert!(audit(m.r.store()).unwrap().is_clean());
}
