//! The cross-regional part of `yrd-ets demo`: runs the binary, checks what it prints and then
//! reopens its registry to check the figures exactly. Every expected figure below is worked out
//! by hand from the scenario's tables (crates/data/src/demo.rs) and config/yrd.toml, not copied
//! from the program's output.

mod common;

use common::{run, text};
use yrd_registry::Registry;
use yrd_registry::reports::{net_flows, pair_balances};
use yrd_storage::SqliteStore;
use yrd_types::{AccountId, OrderRef, UnitClass, UnitTypeCode};

fn class(s: &str) -> UnitClass {
    s.parse().unwrap()
}

#[test]
fn the_demo_runs_the_cross_regional_market() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = run(&["demo", "--data-dir", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for step in [
        "pollutant rights 2021",
        "cross-regional transfers 2021",
        "call market 2021",
    ] {
        assert!(t.contains(step), "{step} missing: {t}");
    }
    // VOCs pilot: 4,200 + 3,857 + 2,900 + 2,300 = 13,257 kg, one for one (no pilot area is
    // non-attainment for VOCs); the two Guangde deliveries (4,200 + 3,857 = 8,057 kg) leave
    // Anhui's airshed and needed both approvals.
    assert!(
        t.contains(
            "VOCS: 13,257 kg delivered among 8 enterprises: 13,257 kg credited, 0 kg retired"
        ),
        "{t}"
    );
    assert!(t.contains("8,057 kg crossed airsheds"), "{t}");
    // COD at 3:2: 1,500 -> 1,000 + 500; 3,000 -> 2,000 + 1,000; 1,000 -> floor(2,000 / 3) = 666
    // + 334. Delivered 5,500, credited 3,666, retired 1,834.
    assert!(
        t.contains(
            "COD: 5,500 kg delivered among 6 enterprises: 3,666 kg credited, 1,834 kg retired"
        ),
        "{t}"
    );
    assert!(t.contains("operator revenue CNY 60,000,000.00"), "{t}");
    assert!(t.contains("audit: clean"), "{t}");

    let registry = Registry::open(SqliteStore::open_read_only(&dir).unwrap()).unwrap();
    let state = registry.state();
    let ledger = state.ledger();
    let no = |id: &str| ledger.find(&AccountId::new(id).unwrap()).unwrap();
    let held = |id: &str, c: &str| ledger.quantity(no(id), &class(c));

    // The 3:2 transfer of 1,500 kg from Wujiang to Qingpu credits 1,000 and retires 500.
    assert_eq!(held("OHA-CN-SH-QP-003", "CN-JS/COD/2021"), 1_000);
    assert_eq!(held("OHA-CN-JS-SZ-WJ-003", "CN-ZJ/COD/2021"), 2_000);
    assert_eq!(held("OHA-CN-ZJ-JX-JS-003", "CN-JS/COD/2021"), 666);
    // VOCs received: the 13,257 kg, at the four receivers.
    let vocs = held("OHA-CN-SH-QP-001", "CN-AH/VOCS/2021")
        + held("OHA-CN-JS-SZ-WJ-001", "CN-AH/VOCS/2021")
        + held("OHA-CN-SH-QP-002", "CN-ZJ/VOCS/2021")
        + held("OHA-CN-ZJ-JX-JS-002", "CN-JS/VOCS/2021");
    assert_eq!(vocs, 13_257);
    assert_eq!(
        held("OHA-CN-AH-XC-GD-001", "CN-AH/VOCS/2021"),
        24_000 - 4_200
    );

    // The call market, solved by hand. Lot = 1 t, so per-lot coefficients are the per-tonne ones:
    // Dianshan Lake: Qingpu 0.60, Kunshan 0.50, Wujiang 0.35, Jiashan 0.15; configured headroom
    // 12,000 - 3,000 - 7,500 = 1,500 t/yr, less the load of the transfers before the market
    // (area inflows in t: Kunshan -1, Wujiang +0.5, Qingpu +1, Jiashan -2.334):
    // -0.5 + 0.175 + 0.6 - 0.3501 = -0.0751, so 1,500.0751 t/yr remain. Jishuigang (2.5 mg/L
    // configured): Kunshan 0.0010, Wujiang 0.0015. Suppose only Dianshan binds and rank every
    // step by its price per t/yr of lake load (CNY): Qingpu buy 30,000 / 0.6 = 50,000; Kunshan
    // buy 20,000 / 0.5 = 40,000; Wujiang buy 12,000 / 0.35 = 34,286; Wujiang sell 10,000 / 0.35
    // = 28,571 (frees load); Qingpu sell 26,000 / 0.6 = 43,333; Jiashan sell 8,000 / 0.15 =
    // 53,333. At a lake price of 40,000: the Qingpu buy (900 t/yr of load) and the Wujiang sell
    // (-140) fill, the Qingpu sell, Jiashan sell and Wujiang buy do not, and Kunshan takes the
    // rest, (1,500.0751 - 900 + 140) / 0.5 = 1,480.15 of its 1,500 lots (1,480 whole lots) -
    // partial, so it sets the price: mu = 20,000 / 0.5 = CNY 40,000 per t/yr. Jishuigang's load
    // 0.0010 x 1,480 - 0.0015 x 400 = 0.88 < 2.5: slack, price 0 - the assumption holds. Area
    // prices 0.6 mu = 24,000 (Qingpu), 0.5 mu = 20,000 (Kunshan), 0.35 mu = 14,000 (Wujiang),
    // 0.15 mu = 6,000 (Jiashan): each unfilled step is out of the money at its area's price
    // (Qingpu sell 26,000 > 24,000; Wujiang buy 12,000 < 14,000; Jiashan sell 8,000 > 6,000).
    // Revenue = 1,500 x 24,000 + 1,480 x 20,000 - 400 x 14,000 = CNY 60,000,000; surplus =
    // 1,500 x 30,000 + 1,480 x 20,000 - 400 x 10,000 = CNY 70,600,000.
    let market = state
        .regional()
        .call_market(&OrderRef::new("HUANGPU-COD-2021").unwrap())
        .unwrap();
    let result = market.result.as_ref().unwrap();
    let fill = |s: &str| result.fills[&OrderRef::new(s).unwrap()];
    assert_eq!(
        [
            fill("QP-001-BUY"),
            fill("QP-002-SELL"),
            fill("KS-001-BUY"),
            fill("WJ-002-BUY"),
            fill("WJ-001-SELL"),
            fill("JS-001-SELL"),
        ],
        [1_500, 0, 1_480, 0, 400, 0]
    );
    let price = |a: &str| result.settlement_prices[a];
    assert_eq!(price("CN-SH-QP"), 2_400_000); // fen per lot of 1 t
    assert_eq!(price("CN-JS-SZ-KS"), 2_000_000);
    assert_eq!(price("CN-JS-SZ-WJ"), 1_400_000);
    assert_eq!(price("CN-ZJ-JX-JS"), 600_000);
    let mu = result.receptor_prices["DIANSHAN-LAKE-COD"];
    assert!((mu - 4_000_000.0).abs() < 1e-3, "{mu}");
    assert!(result.receptor_prices["JISHUIGANG-COD"].abs() < 1e-6);
    assert_eq!(result.operator_revenue_minor, 6_000_000_000);
    assert_eq!(result.total_surplus_minor, 7_060_000_000);
    // Settled: new rights issued to the buyers, the Wujiang seller's retired and paid.
    assert_eq!(
        held("OHA-CN-SH-QP-001", "CN-SH/COD/2021"),
        60_000 + 1_500_000
    );
    assert_eq!(
        held("OHA-CN-JS-SZ-KS-001", "CN-JS/COD/2021"),
        200_000 - 1_000 + 1_480_000
    );
    assert_eq!(
        held("OHA-CN-JS-SZ-WJ-001", "CN-JS/COD/2021"),
        420_000 - 1_500 - 400_000
    );
    assert_eq!(
        held("CN-JS-CANCELLATION", "CN-JS/COD/2021"),
        500 + 334 + 400_000
    );
    let cash = |id: &str| state.cash().balance(no(id)).total();
    // Deposits were the guarantees: 1,500 x 30,000 and 1,500 x 20,000 CNY (in fen).
    assert_eq!(cash("OHA-CN-SH-QP-001"), 4_500_000_000 - 3_600_000_000);
    assert_eq!(cash("OHA-CN-JS-SZ-KS-001"), 3_000_000_000 - 2_960_000_000);
    assert_eq!(cash("OHA-CN-JS-SZ-WJ-001"), 560_000_000);
    assert_eq!(cash("CN-SH-GOV"), 6_000_000_000);

    // Area net inflows, kg: transfers (credited in, delivered out) plus call-market net changes.
    let inflow = |a: &str, p: &str| {
        state
            .regional()
            .net_inflow(a, &UnitTypeCode::new(p).unwrap())
    };
    assert_eq!(inflow("CN-AH-XC-GD", "VOCS"), -8_057);
    assert_eq!(inflow("CN-SH-QP", "VOCS"), 4_200 + 2_900);
    assert_eq!(inflow("CN-JS-SZ-WJ", "VOCS"), 3_857 - 2_300);
    assert_eq!(inflow("CN-ZJ-JX-JS", "VOCS"), 2_300 - 2_900);
    assert_eq!(inflow("CN-SH-QP", "COD"), 1_000 + 1_500_000);
    assert_eq!(inflow("CN-JS-SZ-KS", "COD"), -1_000 + 1_480_000);
    assert_eq!(inflow("CN-JS-SZ-WJ", "COD"), -1_500 + 2_000 - 400_000);
    assert_eq!(inflow("CN-ZJ-JX-JS", "COD"), -3_000 + 666);

    // Net-flow ledger of the pollutants: units of one jurisdiction held in another.
    let flows = net_flows(state);
    let flow = |issuer: &str, user: &str, unit_type: &str| {
        flows
            .iter()
            .find(|r| r.issuer == issuer && r.user == user && r.unit_type == unit_type)
            .map_or(0, |r| r.total())
    };
    assert_eq!(flow("CN-AH", "CN-SH", "VOCS"), 4_200);
    assert_eq!(flow("CN-AH", "CN-JS", "VOCS"), 3_857);
    assert_eq!(flow("CN-JS", "CN-SH", "COD"), 1_000);
    assert_eq!(flow("CN-ZJ", "CN-JS", "COD"), 2_000);
    let pair = pair_balances(&flows)
        .into_iter()
        .find(|p| p.first == "CN-JS" && p.second == "CN-ZJ" && p.unit_type == "COD")
        .unwrap();
    assert_eq!((pair.first_to_second, pair.second_to_first), (666, 2_000));
    assert_eq!(pair.net, -1_334);
}
