use super::*;
use yrd_types::{JurisdictionCode, UnitTypeCode};

/// A small geography: Shanghai with Qingpu and Jinshan, Jiangsu with Suzhou and Wujiang, Anhui's
/// Xuancheng on the Yangtze only. Suzhou (and so Wujiang) misses its NOx target, Jinshan its
/// VOCs target.
const FIXTURE: &str = r#"
[[basins]]
code = "TAIHU"
name = "Taihu basin"

[[basins]]
code = "YANGTZE"
name = "Yangtze main stream"

[[airsheds]]
code = "AIR-SH"
name = "Shanghai"

[[airsheds]]
code = "AIR-JS"
name = "Jiangsu"

[[airsheds]]
code = "AIR-DZ"
name = "Demonstration zone"

[[sectors]]
code = "power"
name = "Thermal power"
class = "power"

[[sectors]]
code = "chemicals"
name = "Chemicals"
class = "industry"

[[sectors]]
code = "livestock"
name = "Livestock farming"
class = "agriculture"

[[sectors]]
code = "wwtp"
name = "Wastewater treatment"
class = "other"

[[areas]]
code = "CN-SH"
name = "Shanghai"
jurisdiction = "CN-SH"
level = "province"
basins = ["TAIHU", "YANGTZE"]
airsheds = ["AIR-SH"]

[[areas]]
code = "CN-SH-QP"
name = "Qingpu"
jurisdiction = "CN-SH"
level = "county"
parent = "CN-SH"
basins = ["TAIHU"]
airsheds = ["AIR-SH", "AIR-DZ"]
demonstration_zone = true

[[areas]]
code = "CN-SH-JS"
name = "Jinshan"
jurisdiction = "CN-SH"
level = "county"
parent = "CN-SH"
basins = ["TAIHU"]
airsheds = ["AIR-SH"]
non_attainment = ["VOCS"]

[[areas]]
code = "CN-JS"
name = "Jiangsu"
jurisdiction = "CN-JS"
level = "province"
basins = ["TAIHU", "YANGTZE"]
airsheds = ["AIR-JS"]

[[areas]]
code = "CN-JS-SZ"
name = "Suzhou"
jurisdiction = "CN-JS"
level = "prefecture"
parent = "CN-JS"
basins = ["TAIHU", "YANGTZE"]
airsheds = ["AIR-JS"]
non_attainment = ["NOX"]

[[areas]]
code = "CN-JS-SZ-WJ"
name = "Wujiang"
jurisdiction = "CN-JS"
level = "county"
parent = "CN-JS-SZ"
basins = ["TAIHU"]
airsheds = ["AIR-JS", "AIR-DZ"]
demonstration_zone = true

[[areas]]
code = "CN-AH-XC"
name = "Xuancheng"
jurisdiction = "CN-AH"
level = "prefecture"
basins = ["YANGTZE"]

[[receptors]]
code = "JISHUIGANG"
name = "Jishuigang"
kind = "river_section"
pollutant = "COD"
basin = "TAIHU"
unit = "t/yr"
standard = 1000.0
background = 200.0
current_load = 650.0
coefficients = { "CN-JS-SZ-WJ" = 0.6, "CN-SH-QP" = 0.1 }
illustrative = true
source = "test"

[rules]
water_pollutants = ["COD", "NH3-N"]
air_pollutants = ["SO2", "NOX", "VOCS"]
water_within_basin = true
air_within_airshed = true
no_industry_agriculture = true
power_air_ring_fenced = true
non_attainment_no_increase = true

[[rules.ratios]]
name = "water-1.5"
applies = { scope = "any_cross_area" }
pollutants = ["COD", "NH3-N"]
delivered = 3
credited = 2
source = "Jiaxing practice"

[[rules.ratios]]
name = "air-non-attainment-2"
applies = { scope = "into_non_attainment" }
pollutants = ["SO2", "NOX", "VOCS"]
delivered = 2
credited = 1
source = "Shanxi draft"
"#;

fn geo() -> Geography {
    toml::from_str(FIXTURE).expect("fixture parses")
}

fn j(code: &str) -> JurisdictionCode {
    JurisdictionCode::new(code).unwrap()
}

fn u(code: &str) -> UnitTypeCode {
    UnitTypeCode::new(code).unwrap()
}

struct Market {
    jurisdictions: Vec<JurisdictionCode>,
    unit_types: Vec<(UnitTypeCode, bool)>,
}

fn market() -> Market {
    Market {
        jurisdictions: ["CN-SH", "CN-JS", "CN-ZJ", "CN-AH"].map(j).to_vec(),
        unit_types: [
            ("CEA", false),
            ("COD", true),
            ("NH3-N", true),
            ("SO2", true),
            ("NOX", true),
            ("VOCS", true),
        ]
        .map(|(c, p)| (u(c), p))
        .to_vec(),
    }
}

fn validate(g: &Geography) -> Result<(), Vec<(String, String)>> {
    let m = market();
    let js: Vec<&JurisdictionCode> = m.jurisdictions.iter().collect();
    let us: Vec<KnownUnitType<'_>> = m
        .unit_types
        .iter()
        .map(|(code, pollutant_right)| KnownUnitType {
            code,
            pollutant_right: *pollutant_right,
        })
        .collect();
    g.validate(&js, &us)
}

/// The first validation failure, which the test expects to exist.
fn first_failure(g: &Geography) -> (String, String) {
    validate(g).expect_err("expected a validation failure")[0].clone()
}

/// A transfer between two parties, each `(area, sector, jurisdiction)`.
struct T {
    pollutant: UnitTypeCode,
    from: (Option<&'static str>, Option<&'static str>, JurisdictionCode),
    to: (Option<&'static str>, Option<&'static str>, JurisdictionCode),
    quantity: u64,
    approved: bool,
    inflow: i128,
}

fn t(pollutant: &str, from: &'static str, to: &'static str, quantity: u64) -> T {
    let jur = |area: &str| j(&area[..5]);
    T {
        pollutant: u(pollutant),
        from: (Some(from), None, jur(from)),
        to: (Some(to), None, jur(to)),
        quantity,
        approved: false,
        inflow: 0,
    }
}

impl T {
    fn sectors(mut self, from: &'static str, to: &'static str) -> T {
        self.from.1 = Some(from);
        self.to.1 = Some(to);
        self
    }

    fn approved(mut self) -> T {
        self.approved = true;
        self
    }

    fn inflow(mut self, inflow: i128) -> T {
        self.inflow = inflow;
        self
    }

    fn query(&self) -> TransferQuery<'_> {
        TransferQuery {
            pollutant: &self.pollutant,
            from: Party {
                area: self.from.0,
                sector: self.from.1,
                jurisdiction: &self.from.2,
            },
            to: Party {
                area: self.to.0,
                sector: self.to.1,
                jurisdiction: &self.to.2,
            },
            quantity: self.quantity,
            approved: self.approved,
            to_area_net_inflow: self.inflow,
        }
    }

    fn judge(&self, g: &Geography) -> Result<TransferTerms, TransferRefusal> {
        judge_transfer(g, &self.query())
    }

    fn refused(&self, g: &Geography) -> TransferRefusal {
        self.judge(g).expect_err("expected a refusal")
    }

    fn allowed(&self, g: &Geography) -> TransferTerms {
        match self.judge(g) {
            Ok(terms) => terms,
            Err(r) => panic!("expected the transfer to be allowed, got {r}"),
        }
    }
}

fn one_for_one(quantity: u64) -> TransferTerms {
    TransferTerms {
        credited: quantity,
        retired: 0,
        ratio: None,
        needs_approval: false,
    }
}

// ---- model and lookups ----

#[test]
fn fixture_validates() {
    validate(&geo()).unwrap();
}

#[test]
fn lookups_and_ancestors() {
    let g = geo();
    assert_eq!(g.area("CN-SH-QP").unwrap().name, "Qingpu");
    assert!(g.area("CN-XX").is_none());
    let chain: Vec<&str> = g
        .area_of_ancestors("CN-JS-SZ-WJ")
        .iter()
        .map(|a| a.code.as_str())
        .collect();
    assert_eq!(chain, ["CN-JS-SZ-WJ", "CN-JS-SZ", "CN-JS"]);
    assert!(g.area_of_ancestors("CN-XX").is_empty());
    assert!(g.is_within("CN-JS-SZ-WJ", "CN-JS"));
    assert!(!g.is_within("CN-JS", "CN-JS-SZ"));
    assert_eq!(
        g.non_attainment_area("CN-JS-SZ-WJ", &u("NOX"))
            .unwrap()
            .code,
        "CN-JS-SZ"
    );
    assert!(g.non_attainment_area("CN-JS-SZ-WJ", &u("VOCS")).is_none());
    assert_eq!(g.water_or_air(&u("COD")), Some(Medium::Water));
    assert_eq!(g.water_or_air(&u("VOCS")), Some(Medium::Air));
    assert_eq!(g.medium(&u("CEA")), None);
    let r = g.receptor("JISHUIGANG").unwrap();
    assert_eq!(g.receptor_headroom(r), 150.0);
    assert!(g.is_non_attainment("CN-JS-SZ-WJ", &u("NOX")));
    assert!(!g.is_non_attainment("CN-SH-QP", &u("NOX")));
    assert!(g.receptor("NOPE").is_none());
    assert_eq!(g.sector("power").unwrap().class, SectorClass::Power);
}

#[test]
fn an_unvalidated_cycle_does_not_loop() {
    let mut g = geo();
    g.areas[0].parent = Some("CN-SH-QP".into());
    assert_eq!(g.area_of_ancestors("CN-SH-QP").len(), 2);
    assert!(!g.is_within("CN-SH-QP", "CN-JS"));
}

#[test]
fn rule_codes_are_stable_and_distinct() {
    let codes: Vec<&str> = TransferRule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            "UNKNOWN_AREA",
            "UNKNOWN_SECTOR",
            "INDUSTRY_AGRICULTURE_TRANSFER",
            "POWER_SECTOR_RING_FENCE",
            "CROSS_BASIN_WATER_TRANSFER",
            "CROSS_AIRSHED_NEEDS_APPROVAL",
            "CROSS_JURISDICTION_NEEDS_APPROVAL",
            "RATIO_CREDITS_NOTHING",
            "NON_ATTAINMENT_INCREASE",
        ]
    );
    for r in TransferRule::ALL {
        assert!(!r.source().is_empty());
        assert_eq!(r.to_string(), r.code());
    }
    assert!(TransferRule::CrossAirshedNeedsApproval.approval_lifts());
    assert!(!TransferRule::CrossBasinWaterTransfer.approval_lifts());
}

// ---- when the rules apply ----

#[test]
fn ungoverned_unit_types_move_one_for_one() {
    // Xuancheng and Qingpu share no basin, but CEA is no pollutant the rules govern.
    let g = geo();
    let q = t("CEA", "CN-AH-XC", "CN-SH-QP", 1_000);
    assert_eq!(q.allowed(&g), one_for_one(1_000));
}

#[test]
fn a_party_without_area_is_not_judged() {
    // A government account has no area: an administrative move, not a trade.
    let g = geo();
    let mut q = t("COD", "CN-AH-XC", "CN-SH-QP", 1_000);
    q.from.0 = None;
    assert_eq!(q.allowed(&g), one_for_one(1_000));
    let mut q = t("COD", "CN-AH-XC", "CN-SH-QP", 1_000);
    q.to.0 = None;
    q.to.1 = Some("no-such-sector");
    assert_eq!(q.allowed(&g), one_for_one(1_000));
}

#[test]
fn unknown_area_and_sector_are_refused() {
    let g = geo();
    let r = t("COD", "CN-SH-XX", "CN-SH-QP", 1_000).refused(&g);
    assert_eq!(r.rule, TransferRule::UnknownArea);
    assert!(r.message.contains("CN-SH-XX"), "{}", r.message);
    let r = t("COD", "CN-SH-JS", "CN-SH-QP", 1_000)
        .sectors("chemicals", "mining")
        .refused(&g);
    assert_eq!(r.rule, TransferRule::UnknownSector);
    assert!(r.message.contains("mining"), "{}", r.message);
}

#[test]
fn within_one_area_no_ratio_and_no_area_rules() {
    let mut g = geo();
    // Even an area in no basin may trade water rights within itself.
    g.areas[6].basins.clear();
    let q = t("COD", "CN-AH-XC", "CN-AH-XC", 1_000);
    assert_eq!(q.allowed(&g), one_for_one(1_000));
    // Jinshan is non-attainment for VOCs, but a trade inside it does not raise its total.
    let q = t("VOCS", "CN-SH-JS", "CN-SH-JS", 1_000);
    assert_eq!(q.allowed(&g), one_for_one(1_000));
}

// ---- basins ----

#[test]
fn water_rights_stay_within_a_basin() {
    let g = geo();
    let r = t("COD", "CN-AH-XC", "CN-SH-QP", 3_000).refused(&g);
    assert_eq!(r.rule, TransferRule::CrossBasinWaterTransfer);
    for needle in ["COD", "Xuancheng (CN-AH-XC)", "Qingpu (CN-SH-QP)", "38号"] {
        assert!(r.message.contains(needle), "{needle} not in {}", r.message);
    }
    // Approval does not lift the basin rule.
    let r = t("COD", "CN-AH-XC", "CN-SH-QP", 3_000)
        .approved()
        .refused(&g);
    assert_eq!(r.rule, TransferRule::CrossBasinWaterTransfer);
    // Wujiang and Qingpu share the Taihu basin: allowed, at the water ratio.
    let terms = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 3_000).allowed(&g);
    assert_eq!(terms.credited, 2_000);
    assert_eq!(terms.retired, 1_000);
    assert_eq!(terms.ratio, Some(("water-1.5".to_string(), 3, 2)));
    assert!(!terms.needs_approval);
    // Xuancheng and Suzhou share the Yangtze main stream.
    t("NH3-N", "CN-AH-XC", "CN-JS-SZ", 3).allowed(&g);
}

#[test]
fn basin_rule_can_be_switched_off() {
    let mut g = geo();
    g.rules.water_within_basin = false;
    let terms = t("COD", "CN-AH-XC", "CN-SH-QP", 3_000).allowed(&g);
    assert_eq!(terms.credited, 2_000);
}

// ---- airsheds and approval ----

#[test]
fn air_rights_across_airsheds_need_approval() {
    let g = geo();
    // Qingpu and Wujiang share the demonstration-zone airshed.
    let terms = t("SO2", "CN-SH-QP", "CN-JS-SZ-WJ", 1_000).allowed(&g);
    assert_eq!(terms, one_for_one(1_000));
    // Jinshan (AIR-SH) to Wujiang (AIR-JS, AIR-DZ): no shared airshed.
    let r = t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1_000).refused(&g);
    assert_eq!(r.rule, TransferRule::CrossAirshedNeedsApproval);
    for needle in [
        "SO2",
        "Jinshan (CN-SH-JS)",
        "Wujiang (CN-JS-SZ-WJ)",
        "CN-SH",
        "CN-JS",
    ] {
        assert!(r.message.contains(needle), "{needle} not in {}", r.message);
    }
    let terms = t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1_000)
        .approved()
        .allowed(&g);
    assert_eq!(
        terms,
        TransferTerms {
            needs_approval: true,
            ..one_for_one(1_000)
        }
    );
    assert_eq!(
        needs_approval(
            &g,
            &u("SO2"),
            &t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1).query().from,
            &t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1).query().to
        ),
        Some(TransferRule::CrossAirshedNeedsApproval)
    );
    // The airshed rule does not concern water pollutants.
    let q = t("COD", "CN-SH-JS", "CN-JS-SZ-WJ", 3);
    assert!(!q.allowed(&g).needs_approval);
    assert_eq!(
        needs_approval(&g, &u("COD"), &q.query().from, &q.query().to),
        None
    );
}

#[test]
fn approval_not_needed_is_not_reported() {
    let g = geo();
    let terms = t("SO2", "CN-SH-QP", "CN-JS-SZ-WJ", 1_000)
        .approved()
        .allowed(&g);
    assert!(!terms.needs_approval);
}

#[test]
fn cross_jurisdiction_approval_when_configured() {
    let mut g = geo();
    let q = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 3_000);
    assert!(!q.allowed(&g).needs_approval);
    g.rules.cross_jurisdiction_needs_approval = true;
    let r = q.refused(&g);
    assert_eq!(r.rule, TransferRule::CrossJurisdictionNeedsApproval);
    assert!(
        r.message.contains("CN-JS") && r.message.contains("CN-SH"),
        "{}",
        r.message
    );
    let terms = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 3_000)
        .approved()
        .allowed(&g);
    assert!(terms.needs_approval);
    assert_eq!(terms.credited, 2_000);
    // Within one jurisdiction no approval is needed.
    let terms = t("COD", "CN-SH-JS", "CN-SH-QP", 3_000).allowed(&g);
    assert!(!terms.needs_approval);
    // Approval rules report each one asking.
    let q = t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1_000);
    let all = judge_transfer_all(&g, &q.query()).unwrap_err();
    let rules: Vec<TransferRule> = all.iter().map(|r| r.rule).collect();
    assert_eq!(
        rules,
        [
            TransferRule::CrossAirshedNeedsApproval,
            TransferRule::CrossJurisdictionNeedsApproval
        ]
    );
}

// ---- sectors ----

#[test]
fn industry_and_agriculture_do_not_trade() {
    let g = geo();
    let r = t("COD", "CN-SH-JS", "CN-SH-QP", 3_000)
        .sectors("chemicals", "livestock")
        .refused(&g);
    assert_eq!(r.rule, TransferRule::IndustryAgricultureTransfer);
    for needle in ["chemicals", "livestock", "industry", "agriculture", "COD"] {
        assert!(r.message.contains(needle), "{needle} not in {}", r.message);
    }
    // Both directions, and within one area too.
    let r = t("COD", "CN-SH-QP", "CN-SH-QP", 3_000)
        .sectors("livestock", "chemicals")
        .refused(&g);
    assert_eq!(r.rule, TransferRule::IndustryAgricultureTransfer);
    // Industry with "other" (wastewater treatment) is fine.
    t("COD", "CN-SH-JS", "CN-SH-QP", 3_000)
        .sectors("chemicals", "wwtp")
        .allowed(&g);
    // An unknown-sector party (None) is not judged by the sector rules.
    let mut q = t("COD", "CN-SH-JS", "CN-SH-QP", 3_000).sectors("chemicals", "livestock");
    q.to.1 = None;
    q.allowed(&g);
}

#[test]
fn power_air_rights_are_ring_fenced() {
    let g = geo();
    let r = t("SO2", "CN-SH-QP", "CN-SH-JS", 1_000)
        .sectors("power", "chemicals")
        .refused(&g);
    assert_eq!(r.rule, TransferRule::PowerSectorRingFence);
    assert!(
        r.message.contains("power") && r.message.contains("SO2"),
        "{}",
        r.message
    );
    let r = t("SO2", "CN-SH-QP", "CN-SH-JS", 1_000)
        .sectors("chemicals", "power")
        .refused(&g);
    assert_eq!(r.rule, TransferRule::PowerSectorRingFence);
    t("SO2", "CN-SH-QP", "CN-SH-JS", 1_000)
        .sectors("power", "power")
        .allowed(&g);
    // Water rights of a power plant are not ring-fenced.
    t("COD", "CN-SH-QP", "CN-SH-JS", 3_000)
        .sectors("power", "chemicals")
        .allowed(&g);
}

#[test]
fn sector_rules_can_be_switched_off() {
    let mut g = geo();
    g.rules.no_industry_agriculture = false;
    g.rules.power_air_ring_fenced = false;
    t("COD", "CN-SH-JS", "CN-SH-QP", 3_000)
        .sectors("chemicals", "livestock")
        .allowed(&g);
    t("SO2", "CN-SH-QP", "CN-SH-JS", 1_000)
        .sectors("power", "chemicals")
        .allowed(&g);
}

// ---- non-attainment ----

#[test]
fn non_attainment_area_may_only_buy_back() {
    let g = geo();
    // Jinshan misses its VOCs target: 2:1 into it, and no net increase.
    let r = t("VOCS", "CN-SH-QP", "CN-SH-JS", 2_000).refused(&g);
    assert_eq!(r.rule, TransferRule::NonAttainmentIncrease);
    for needle in ["Jinshan (CN-SH-JS)", "VOCS", "1000", "38号"] {
        assert!(r.message.contains(needle), "{needle} not in {}", r.message);
    }
    // Having sold 1,000 kg before, it may buy back exactly 1,000 kg credited.
    let terms = t("VOCS", "CN-SH-QP", "CN-SH-JS", 2_000)
        .inflow(-1_000)
        .allowed(&g);
    assert_eq!(terms.credited, 1_000);
    assert_eq!(terms.retired, 1_000);
    assert_eq!(
        terms.ratio,
        Some(("air-non-attainment-2".to_string(), 2, 1))
    );
    // One kilogram more is refused.
    let r = t("VOCS", "CN-SH-QP", "CN-SH-JS", 2_002)
        .inflow(-1_000)
        .refused(&g);
    assert_eq!(r.rule, TransferRule::NonAttainmentIncrease);
    // Out of a non-attainment area is fine, one-for-one (no ratio out).
    let terms = t("VOCS", "CN-SH-JS", "CN-SH-QP", 2_000).allowed(&g);
    assert_eq!(terms, one_for_one(2_000));
}

#[test]
fn non_attainment_is_inherited_from_ancestors() {
    let g = geo();
    // Wujiang lies in Suzhou, which misses its NOx target.
    let r = t("NOX", "CN-SH-QP", "CN-JS-SZ-WJ", 2_000).refused(&g);
    assert_eq!(r.rule, TransferRule::NonAttainmentIncrease);
    assert!(r.message.contains("Suzhou (CN-JS-SZ)"), "{}", r.message);
    // From Suzhou itself into Wujiang, Suzhou's total does not change.
    let terms = t("NOX", "CN-JS-SZ", "CN-JS-SZ-WJ", 2_000).allowed(&g);
    assert_eq!(terms.credited, 1_000);
}

#[test]
fn non_attainment_rule_can_be_switched_off() {
    let mut g = geo();
    g.rules.non_attainment_no_increase = false;
    let terms = t("VOCS", "CN-SH-QP", "CN-SH-JS", 2_000).allowed(&g);
    assert_eq!(terms.credited, 1_000);
}

// ---- trading ratios ----

#[test]
fn ratio_rounding_is_down_and_exact() {
    assert_eq!(ratio_split(1_000, 3, 2), Some((666, 334)));
    assert_eq!(ratio_split(3, 3, 2), Some((2, 1)));
    assert_eq!(ratio_split(1, 3, 2), Some((0, 1)));
    assert_eq!(ratio_split(1, 2, 1), Some((0, 1)));
    assert_eq!(ratio_split(7, 1, 1), Some((7, 0)));
    assert_eq!(ratio_split(0, 3, 2), Some((0, 0)));
    // The u128 intermediate: no overflow at the top of the range.
    assert_eq!(
        ratio_split(u64::MAX, u32::MAX, u32::MAX - 1),
        Some((
            u64::try_from(u128::from(u64::MAX) * u128::from(u32::MAX - 1) / u128::from(u32::MAX))
                .unwrap(),
            u64::MAX
                - u64::try_from(
                    u128::from(u64::MAX) * u128::from(u32::MAX - 1) / u128::from(u32::MAX)
                )
                .unwrap()
        ))
    );
    assert_eq!(ratio_split(u64::MAX, 3, 2).unwrap().0, u64::MAX / 3 * 2);
    assert_eq!(ratio_split(5, 0, 0), None);
    assert_eq!(ratio_split(5, 1, 2), None);
}

#[test]
fn jiaxing_ratio_on_a_thousand_kilograms() {
    let g = geo();
    let terms = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 1_000).allowed(&g);
    assert_eq!((terms.credited, terms.retired), (666, 334));
}

#[test]
fn ratio_that_credits_nothing_is_refused() {
    let g = geo();
    let mut q = t("VOCS", "CN-SH-QP", "CN-SH-JS", 1);
    q.inflow = -10;
    let r = q.refused(&g);
    assert_eq!(r.rule, TransferRule::RatioCreditsNothing);
    assert!(r.message.contains("air-non-attainment-2"), "{}", r.message);
    assert!(r.message.contains("Shanxi draft"), "{}", r.message);
    let r = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 1).refused(&g);
    assert_eq!(r.rule, TransferRule::RatioCreditsNothing);
}

#[test]
fn strictest_ratio_wins() {
    let mut g = geo();
    let ratio = |name: &str, applies: RatioScope, delivered, credited| TradingRatio {
        name: name.into(),
        applies,
        pollutants: vec![],
        delivered,
        credited,
        source: "test".into(),
    };
    g.rules.ratios = vec![
        ratio("a-5:4", RatioScope::AnyCrossArea, 5, 4),
        ratio(
            "b-2:1-into-shanghai",
            RatioScope::IntoArea {
                area: "CN-SH".into(),
            },
            2,
            1,
        ),
        ratio("c-3:2", RatioScope::AnyCrossArea, 3, 2),
        ratio(
            "d-4:2-into-shanghai",
            RatioScope::IntoArea {
                area: "CN-SH".into(),
            },
            4,
            2,
        ),
    ];
    validate(&g).unwrap();
    // Into Qingpu (below CN-SH): 2:1 is strictest; the equally strict 4:2 is listed later.
    let terms = t("COD", "CN-JS-SZ-WJ", "CN-SH-QP", 1_001).allowed(&g);
    assert_eq!(terms.ratio, Some(("b-2:1-into-shanghai".to_string(), 2, 1)));
    assert_eq!((terms.credited, terms.retired), (500, 501));
    // Into Wujiang: only the any-area ratios; 3:2 is stricter than 5:4.
    let terms = t("COD", "CN-SH-QP", "CN-JS-SZ-WJ", 1_000).allowed(&g);
    assert_eq!(terms.ratio, Some(("c-3:2".to_string(), 3, 2)));
    assert_eq!(
        g.applicable_ratio(&u("COD"), "CN-SH-QP", "CN-SH-QP"),
        None,
        "no ratio within one area"
    );
}

#[test]
fn ratio_pollutants_limit_the_ratio() {
    let g = geo();
    // The water ratio does not touch SO2 between attainment areas.
    let terms = t("SO2", "CN-SH-QP", "CN-JS-SZ-WJ", 1_000).allowed(&g);
    assert_eq!(terms.ratio, None);
}

#[test]
fn all_refusals_are_reported() {
    let g = geo();
    // Power to chemicals, SO2, Jinshan -> Wujiang: ring fence and airshed.
    let q = t("SO2", "CN-SH-JS", "CN-JS-SZ-WJ", 1_000).sectors("power", "chemicals");
    let rules: Vec<TransferRule> = judge_transfer_all(&g, &q.query())
        .unwrap_err()
        .iter()
        .map(|r| r.rule)
        .collect();
    assert_eq!(
        rules,
        [
            TransferRule::PowerSectorRingFence,
            TransferRule::CrossAirshedNeedsApproval
        ]
    );
    // judge_transfer reports the first.
    assert_eq!(q.refused(&g).rule, TransferRule::PowerSectorRingFence);
}

// ---- validation ----

#[test]
fn unknown_parent_is_refused_with_its_path() {
    let mut g = geo();
    g.areas[3].parent = Some("CN-XX".into());
    assert_eq!(
        first_failure(&g),
        (
            "areas[3].parent".to_string(),
            "unknown area \"CN-XX\"".to_string()
        )
    );
}

#[test]
fn parent_in_another_jurisdiction_is_refused() {
    let mut g = geo();
    g.areas[5].parent = Some("CN-SH".into());
    let (field, reason) = first_failure(&g);
    assert_eq!(field, "areas[5].parent");
    assert!(
        reason.contains("CN-SH") && reason.contains("CN-JS"),
        "{reason}"
    );
}

#[test]
fn parent_of_lower_level_is_refused() {
    let mut g = geo();
    g.areas[4].parent = Some("CN-JS-SZ-WJ".into());
    let failures = validate(&g).unwrap_err();
    assert_eq!(failures[0].0, "areas[4].parent");
    assert!(failures[0].1.contains("higher level"), "{:?}", failures[0]);
    // The cycle Suzhou -> Wujiang -> Suzhou is named too.
    assert!(
        failures
            .iter()
            .any(|(f, r)| f == "areas[4].parent" && r.contains("cycle")),
        "{failures:?}"
    );
}

#[test]
fn unknown_jurisdiction_is_refused() {
    let mut g = geo();
    g.areas[6].jurisdiction = j("CN-HB");
    assert_eq!(first_failure(&g).0, "areas[6].jurisdiction");
}

#[test]
fn duplicate_and_malformed_codes_are_refused() {
    let mut g = geo();
    g.areas[2].code = "CN-SH-QP".into();
    let (field, reason) = first_failure(&g);
    assert_eq!(field, "areas[2].code");
    assert!(reason.contains("duplicate"), "{reason}");
    let mut g = geo();
    g.basins[1].code = "yangtze river".into();
    assert_eq!(first_failure(&g).0, "basins[1].code");
}

#[test]
fn unknown_basin_and_airshed_are_refused() {
    let mut g = geo();
    g.areas[1].basins.push("HUAIHE".into());
    assert_eq!(
        first_failure(&g),
        (
            "areas[1].basins[1]".to_string(),
            "unknown basin \"HUAIHE\"".to_string()
        )
    );
    let mut g = geo();
    g.areas[1].airsheds[0] = "AIR-ZJ".into();
    assert_eq!(first_failure(&g).0, "areas[1].airsheds[0]");
    let mut g = geo();
    g.receptors[0].basin = Some("HUAIHE".into());
    assert_eq!(first_failure(&g).0, "receptors[0].basin");
}

#[test]
fn pollutants_must_be_pollutant_rights() {
    let mut g = geo();
    g.areas[2].non_attainment.push(u("CEA"));
    assert_eq!(
        first_failure(&g),
        (
            "areas[2].non_attainment[1]".to_string(),
            "CEA is not a pollutant_right unit type".to_string()
        )
    );
    let mut g = geo();
    g.rules.water_pollutants.push(u("TP"));
    assert_eq!(
        first_failure(&g),
        (
            "rules.water_pollutants[2]".to_string(),
            "unknown unit type TP".to_string()
        )
    );
    let mut g = geo();
    g.receptors[0].pollutant = u("CEA");
    assert_eq!(first_failure(&g).0, "receptors[0].pollutant");
}

#[test]
fn water_and_air_lists_are_disjoint() {
    let mut g = geo();
    g.rules.air_pollutants.push(u("COD"));
    let (field, reason) = first_failure(&g);
    assert_eq!(field, "rules.air_pollutants[3]");
    assert!(reason.contains("water pollutant"), "{reason}");
}

#[test]
fn receptor_numbers_must_be_finite_and_coefficients_known() {
    let mut g = geo();
    g.receptors[0].standard = f64::NAN;
    assert_eq!(first_failure(&g).0, "receptors[0].standard");
    let mut g = geo();
    g.receptors[0].current_load = f64::INFINITY;
    assert_eq!(first_failure(&g).0, "receptors[0].current_load");
    let mut g = geo();
    g.receptors[0].coefficients.insert("CN-XX".into(), 0.1);
    assert_eq!(
        first_failure(&g),
        (
            "receptors[0].coefficients.CN-XX".to_string(),
            "unknown area \"CN-XX\"".to_string()
        )
    );
    let mut g = geo();
    g.receptors[0].coefficients.insert("CN-SH-QP".into(), -0.1);
    assert_eq!(first_failure(&g).0, "receptors[0].coefficients.CN-SH-QP");
    let mut g = geo();
    g.receptors[0]
        .coefficients
        .insert("CN-SH-QP".into(), f64::NAN);
    assert_eq!(first_failure(&g).0, "receptors[0].coefficients.CN-SH-QP");
}

#[test]
fn receptor_kind_must_match_its_medium() {
    let mut g = geo();
    g.receptors[0].pollutant = u("NOX");
    let (field, reason) = first_failure(&g);
    assert_eq!(field, "receptors[0].pollutant");
    assert!(reason.contains("rules.air_pollutants"), "{reason}");
    let mut g = geo();
    g.receptors[0].airshed = Some("AIR-SH".into());
    assert_eq!(first_failure(&g).0, "receptors[0].airshed");
}

#[test]
fn ratios_must_not_credit_more_than_delivered() {
    let mut g = geo();
    g.rules.ratios[0].delivered = 1;
    g.rules.ratios[0].credited = 2;
    let (field, reason) = first_failure(&g);
    assert_eq!(field, "rules.ratios[0].delivered");
    assert!(reason.contains("below credited"), "{reason}");
    let mut g = geo();
    g.rules.ratios[1].credited = 0;
    assert_eq!(first_failure(&g).0, "rules.ratios[1].credited");
    let mut g = geo();
    g.rules.ratios[1].applies = RatioScope::IntoArea {
        area: "CN-XX".into(),
    };
    assert_eq!(first_failure(&g).0, "rules.ratios[1].applies.area");
    let mut g = geo();
    g.rules.ratios[1].name = g.rules.ratios[0].name.clone();
    assert_eq!(first_failure(&g).0, "rules.ratios[1].name");
}

#[test]
fn unknown_fields_are_refused() {
    let text = FIXTURE.replace("demonstration_zone = true", "demo_zone = true");
    let err = toml::from_str::<Geography>(&text).unwrap_err().to_string();
    assert!(err.contains("demo_zone"), "{err}");
    let text = FIXTURE.replace(
        "applies = { scope = \"any_cross_area\" }",
        "applies = { scope = \"into_area\" }",
    );
    let err = toml::from_str::<Geography>(&text).unwrap_err().to_string();
    assert!(err.contains("area"), "{err}");
}

#[test]
fn into_area_scope_parses() {
    let text = FIXTURE.replace(
        "applies = { scope = \"any_cross_area\" }",
        "applies = { scope = \"into_area\", area = \"CN-SH\" }",
    );
    let g: Geography = toml::from_str(&text).unwrap();
    assert_eq!(
        g.rules.ratios[0].applies,
        RatioScope::IntoArea {
            area: "CN-SH".into()
        }
    );
    validate(&g).unwrap();
}

#[test]
fn pooled_areas_need_a_common_region() {
    let g = geo();
    let areas = |codes: &[&str]| codes.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(g.common_region_violation(Medium::Water, &[]), None);
    // Qingpu, Wujiang and Suzhou all lie in the Taihu basin.
    assert_eq!(
        g.common_region_violation(
            Medium::Water,
            &areas(&["CN-SH-QP", "CN-JS-SZ-WJ", "CN-JS-SZ"])
        ),
        None
    );
    // Xuancheng is on the Yangtze only.
    let r = g
        .common_region_violation(Medium::Water, &areas(&["CN-SH-QP", "CN-AH-XC"]))
        .unwrap();
    assert_eq!(r.rule, TransferRule::CrossBasinWaterTransfer);
    assert!(r.message.contains("CN-AH-XC [YANGTZE]"), "{}", r.message);
    // Qingpu and Wujiang share the demonstration-zone airshed; Jinshan does not.
    assert_eq!(
        g.common_region_violation(Medium::Air, &areas(&["CN-SH-QP", "CN-JS-SZ-WJ"])),
        None
    );
    let r = g
        .common_region_violation(
            Medium::Air,
            &areas(&["CN-SH-QP", "CN-JS-SZ-WJ", "CN-SH-JS"]),
        )
        .unwrap();
    assert_eq!(r.rule, TransferRule::CrossAirshedNeedsApproval);
    // Pairwise sharing is not enough: Jinshan-Qingpu share AIR-SH, Qingpu-Wujiang AIR-DZ.
    assert!(
        g.common_region_violation(
            Medium::Air,
            &areas(&["CN-SH-JS", "CN-SH-QP", "CN-JS-SZ-WJ"])
        )
        .is_some()
    );
    // Rule switched off: anything goes.
    let mut g = geo();
    g.rules.air_within_airshed = false;
    assert_eq!(
        g.common_region_violation(Medium::Air, &areas(&["CN-SH-JS", "CN-JS-SZ-WJ"])),
        None
    );
}
