//! Receptor-constrained call market ("smart market") for cross-regional permits: the pure
//! clearing engine. Bids to change discharge at locations (provinces, prefectures, river zones)
//! are cleared together by linear programming so that the load change at every receptor
//! (monitoring section, air station) stays within its headroom; each location gets a price
//! `pi_i = sum_r a_ri mu_r + w_i lambda` from the receptor prices `mu_r` and the cap price
//! `lambda`. Montgomery (1972, J. Econ. Theory 5) for ambient permits; McCabe, Rassenti & Smith
//! for the LP-cleared "smart market"; the shared brief `../shared/brief/spatial-market.md`.
//!
//! Inputs are integers where the registry needs integers: quantities in lots (`u64`), prices in
//! minor currency units per lot (`i64`); floating point is used only inside the LPs and for the
//! transfer coefficients, headroom and prices they produce. No I/O except the case-file reader
//! ([`case`]), no clock, no randomness: the same problem and solver give the same [`Clearing`]
//! bit for bit (every iteration order is fixed; nothing iterates a hash map into an output).
//!
//! # Bounds
//! [`Problem::validate`] (and so [`clear`]) refuses, each with its own [`SpatialError`] naming
//! the item, a problem without locations; one with neither a receptor nor a tonnage cap (nothing
//! would limit the trades); and numbers beyond what the LPs can resolve in double precision:
//! - a step quantity above [`QUANTITY_MAX`] = 10^12 lots, all steps together above
//!   [`TOTAL_QUANTITY_MAX`] = 10^15 lots (below 2^53: every lot count is exact in an `f64`);
//! - a step price above [`PRICE_MAX`] = 10^12 minor units per lot (the registry's bound);
//! - a transfer coefficient above [`COEFFICIENT_MAX`] = 10^6 receptor units per lot; a headroom
//!   above [`HEADROOM_MAX`] = 10^12 receptor units in absolute value;
//! - a tonnage cap above [`CAP_MAX`] = 10^12 weighted lots, a cap weight above
//!   [`CAP_WEIGHT_MAX`] = 10^6;
//! - a violation price above [`VIOLATION_PRICE_MAX`] = 10^18 minor units per receptor unit (the
//!   default is capped there too).
//!
//! Within the bounds, inputs spanning many orders of magnitude at once (10^12-lot steps next to
//! 1-lot ones, coefficients from 10^-6 to 10^6 in one row) can still exceed the solvers'
//! precision; the clearing then fails with [`SpatialError::Solver`] ("numerical failure: ...",
//! see *Checks*), never with a result that breaks a limit.
//!
//! # The market's rules
//! Ties refer to the order of the steps in the problem ([`Problem::steps`]; the registry passes
//! them in step-reference order) and of its receptors ([`Problem::receptors`]).
//! 1. **Groups and ties.** Steps with the same (location, side, price) form one group: the LP
//!    cannot tell them apart. A group's fill is shared among its steps pro rata to quantity - the
//!    tie rule for equal prices at one location.
//! 2. **Clearing LP.** Variables: the fill `x_g` of every group in `[0, Q_g]` lots; the net
//!    change `D_i` per location, free, defined by one equality row per location
//!    (`D_i = buy fills at i - sell fills at i`, so each group appears in a single row); a slack
//!    `s_r >= 0` per receptor **with a negative headroom** only. Rows:
//!    `sum_i a_ri D_i - s_r <= H_r` per receptor (no `s_r` where `H_r >= 0`) and, with a cap,
//!    `sum_i w_i D_i <= K`. Objective: maximise `sum_buy p x - sum_sell c y - M sum_r s_r`, with
//!    `M` the violation price (default: [`Problem::effective_violation_price`], 1,000 x the
//!    highest step price / the smallest positive coefficient, at least 1, at most 10^18). The
//!    slack keeps a negative headroom (an existing violation) feasible; it is used only when no
//!    trade restores the standard at less than `M` per receptor unit. A non-negative headroom has
//!    no slack: no trade at all meets it, so it is never traded away, whatever `M`. When several
//!    fills give the same maximum surplus, the solver's (deterministic) choice stands; the two
//!    solvers may choose differently.
//! 3. **Prices.** Not the solver's duals (microlp has none; at degenerate vertices duals are
//!    arbitrary) but prices recovered from the fills. A group is *full*, *unfilled* or *partial*
//!    (tolerance `1e-9 x min(Q_g, X)`, `X` the largest group fill of the solution, at least 1
//!    lot: a 10^11-lot offer filled 17 lots is partial, not unfilled). Location `i` gets a lower
//!    bound `L_i` (at least 0; the prices of unfilled buys, full sells and partial groups there)
//!    and an upper bound `U_i` (full buys, unfilled sells, partial groups). A receptor may carry a
//!    price `mu_r >= 0` only if its row binds (load `>= H_r + s_r` within `1e-7` relative to the
//!    larger of `|H_r|`, 1 and `sum_i a_ri x` the gross fill at `i`); one with slack
//!    (`s_r > 0`) is priced at `M`, and the price of a receptor with a negative headroom never
//!    exceeds `M` (the slack would be cheaper); the cap likewise (`lambda`, no slack, no
//!    ceiling). Among all prices with `L_i <= pi_i = sum_r a_ri mu_r + w_i lambda <= U_i` - by
//!    complementary slackness exactly the dual-optimal prices for these fills - the clearing
//!    takes **the lowest prices that support it**: least `sum_r mu_r + lambda`; among equal sums,
//!    least `mu` of the first receptor, then the next, ..., then `lambda`. If that LP is
//!    infeasible through float noise every bound `b` is widened once by `1e-7 x max(1, |b|)`
//!    minor units; if it still is, the clearing fails with [`SpatialError::Solver`].
//! 4. **Whole lots.** A group classed full or unfilled in rule 3 counts as exactly `Q_g` or 0
//!    (so no lot is ever awarded against the price bound of its class); a partial group fill
//!    within `1e-6` of an integer is snapped to it; then every group fill is floored; a
//!    group's lots are split among its steps by the largest remainder of the pro-rata share
//!    (equal remainders: the order of the steps in the problem). Then the repair, deterministic:
//!    - a receptor with a non-negative headroom, and the cap, has the limit
//!      `H_r + 1e-9 x max(1, H_r)` plus the float noise of its load over whole lots,
//!      `(n + 1) x f64::EPSILON x sum_i |a_ri D_i|` for `n` locations; a receptor with a negative
//!      headroom `max(H_r, continuous load_r) + 1e-9 x max(1, |H_r|)`. While some receptor or
//!      the cap is over its limit, take the most violated (largest excess; equal: lowest index,
//!      the cap last) and cut buy fills at locations where it has a positive coefficient, lowest
//!      price first (equal prices: the step last in the problem's order first), each by
//!      `ceil(excess / a_ri)` lots at most its fill, until it is within. (A row no buy cut can
//!      bring within - possible only with a negative headroom - is left as is.)
//!    - if the settled operator revenue is then negative while the continuous one was
//!      non-negative (within `1e-7` relative), cut sell fills at locations with a positive
//!      settlement price, highest price first (equal: the step last in the problem's order
//!      first), each by just enough lots (`ceil(-revenue / P_i)`, at most its fill), and re-run
//!      the receptor repair; repeat until both hold. The two repairs can feed each other a few
//!      lots a round, so from the 17th round on every sell cut is at least `2^(round - 16)` lots
//!      (still at most its fill): as every round cuts that much or empties a sell step, and all
//!      sells total at most 10^15 lots, the repair ends within about 66 rounds plus one per sell
//!      step. It ends with both held: with no sells left the revenue is not negative, and no buys
//!      at all meet every non-negative headroom.
//! 5. **Settlement.** Every fill at location `i` settles at `P_i` = `pi_i` rounded to the
//!    nearest minor unit, halves away from zero; should float noise put that outside
//!    `[L_i, U_i]` (`pi_i` within `0.5 + 2e-7 x max(1, |L_i|, |U_i|)` minor units of it, plus
//!    the price LP's own tolerance) it is the nearer bound, and further out the clearing fails
//!    (*Checks*). Since prices are whole minor units, a buyer never pays above its price and a
//!    seller never receives below its own (checked on every clearing). Money is exact: operator
//!    revenue `sum_i P_i D_i` and surplus `sum_buy p x - sum_sell c y` are `i128` sums with
//!    checked arithmetic. With every headroom and the cap non-negative the operator revenue is
//!    `sum_r mu_r H_r + lambda K >= 0` (continuous) and, by the repair, the settled one is too.
//!    With a negative headroom the operator pays: `mu_r = M` on the violated receptor and the
//!    revenue is `sum_r mu_r (H_r + s_r) + lambda K`, negative when `M (H_r + s_r) < 0`.
//! 6. **The record.** [`Clearing`] holds the continuous and rounded fills and net changes, the
//!    receptor, cap, locational and settlement prices, receptor loads and slack, and surplus and
//!    revenue both continuous and settled.
//!
//! # Checks
//! The solvers work in double precision with absolute tolerances, so every clearing is verified
//! before it is returned: the load of every receptor with a non-negative headroom and of the cap
//! after the LP (within rule 3's binding tolerance) and after rounding (within rule 4's limit,
//! integer fills x coefficients), and every settlement price against its bounds (rule 5). A
//! failure is [`SpatialError::Solver`] with a message starting "numerical failure:" that names
//! the receptor (or the cap, or the location) and the numbers; nothing is cleared. To stay clear
//! of such failures the clearing LP divides its objective by the highest step price but at most
//! `10^6 x` the lowest positive one (so a 1-fen step still costs `1e-6`, above the solver's
//! tolerance); when some quantity exceeds 4 x the largest fill of its solution, solves it again
//! with every bound cut to that (the simplex loses digits walking a 10^11-lot buy down from its
//! bound; a solution none of whose cut groups reaches its cut bound is optimal for the uncut LP
//! too, and is the one used); and the price LP works in units of the geometric mean of its
//! smallest and largest bounds.
//!
//! # Hot spots
//! [`hotspots`] compares the clearing with a uniform one-for-one pool on the same bids (one
//! price, receptors ignored) or with a given set of trades, and names the trades that push a
//! receptor over its headroom.

pub mod case;
mod clear;
mod error;
pub mod hotspots;
mod lp;
mod prices;
mod primal;
mod problem;
mod rounding;

pub use clear::{Clearing, clear};
pub use error::SpatialError;
pub use problem::{
    CAP_MAX, CAP_WEIGHT_MAX, COEFFICIENT_MAX, HEADROOM_MAX, PRICE_MAX, Problem, QUANTITY_MAX,
    ReceptorSpec, Side, SolverChoice, Step, TOTAL_QUANTITY_MAX, TonnageCap, VIOLATION_PRICE_FACTOR,
    VIOLATION_PRICE_MAX,
};
