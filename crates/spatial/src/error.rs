//! Why a problem could not be cleared. Every input check is one variant with a stable code that
//! names the offending item; a failure of the LP solver is [`SpatialError::Solver`].

/// Why [`crate::clear`] (or [`crate::Problem::validate`]) refused a problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpatialError {
    /// The problem has no location: there is nothing to clear.
    #[error("SPATIAL_NO_LOCATIONS: the problem has no locations; a clearing needs at least one")]
    NoLocations,
    /// Neither a receptor nor a tonnage cap limits the trades.
    #[error(
        "SPATIAL_UNCONSTRAINED: the problem has no receptors and no tonnage cap, so nothing would \
         limit the trades; give at least one receptor or a tonnage cap"
    )]
    Unconstrained,
    /// A location, receptor or step id is empty.
    #[error("SPATIAL_EMPTY_ID: {what} number {index} has an empty id")]
    EmptyId {
        /// `location`, `receptor` or `step`.
        what: &'static str,
        /// Its position in its list (0-based).
        index: usize,
    },
    /// Two locations, receptors or steps share an id.
    #[error("SPATIAL_DUPLICATE_ID: {what} {id:?} appears more than once")]
    DuplicateId {
        /// `location`, `receptor` or `step`.
        what: &'static str,
        /// The repeated id.
        id: String,
    },
    /// A step names a location index that does not exist.
    #[error(
        "SPATIAL_UNKNOWN_LOCATION: step {step:?} is at location index {location}, but there are \
         only {locations} locations"
    )]
    LocationOutOfRange {
        /// The step's id.
        step: String,
        /// The index it gave.
        location: usize,
        /// How many locations the problem has.
        locations: usize,
    },
    /// The coefficient matrix does not have one row per receptor.
    #[error("SPATIAL_MATRIX_SHAPE: {rows} coefficient rows for {receptors} receptors")]
    MatrixRows {
        /// Rows given.
        rows: usize,
        /// Receptors in the problem.
        receptors: usize,
    },
    /// A receptor's coefficient row does not have one entry per location.
    #[error(
        "SPATIAL_MATRIX_SHAPE: receptor {receptor:?} has {columns} coefficients for {locations} \
         locations"
    )]
    MatrixColumns {
        /// The receptor's id.
        receptor: String,
        /// Entries in its row.
        columns: usize,
        /// Locations in the problem.
        locations: usize,
    },
    /// A transfer coefficient is negative, NaN, infinite or above [`crate::COEFFICIENT_MAX`].
    #[error(
        "SPATIAL_BAD_COEFFICIENT: coefficient of receptor {receptor:?} at location {location:?} \
         is {value}; it must be finite, >= 0 and at most 1e6 receptor units per lot"
    )]
    BadCoefficient {
        /// The receptor's id.
        receptor: String,
        /// The location's id.
        location: String,
        /// The value given.
        value: f64,
    },
    /// A headroom is NaN, infinite or above [`crate::HEADROOM_MAX`] in absolute value (negative
    /// is allowed: an existing violation).
    #[error(
        "SPATIAL_BAD_HEADROOM: headroom of receptor {receptor:?} is {value}; it must be finite \
         and between -1e12 and 1e12"
    )]
    BadHeadroom {
        /// The receptor's id.
        receptor: String,
        /// The value given.
        value: f64,
    },
    /// The tonnage cap is negative, NaN, infinite or above [`crate::CAP_MAX`].
    #[error(
        "SPATIAL_BAD_CAP: tonnage cap is {value}; it must be finite, >= 0 and at most 1e12 \
         weighted lots"
    )]
    BadCap {
        /// The value given.
        value: f64,
    },
    /// The cap weights do not have one entry per location.
    #[error("SPATIAL_CAP_WEIGHTS_SHAPE: {weights} cap weights for {locations} locations")]
    CapWeightsShape {
        /// Weights given.
        weights: usize,
        /// Locations in the problem.
        locations: usize,
    },
    /// A cap weight is negative, NaN, infinite or above [`crate::CAP_WEIGHT_MAX`].
    #[error(
        "SPATIAL_BAD_CAP_WEIGHT: cap weight of location {location:?} is {value}; it must be \
         finite, >= 0 and at most 1e6"
    )]
    BadCapWeight {
        /// The location's id.
        location: String,
        /// The value given.
        value: f64,
    },
    /// The violation price is zero, negative, NaN, infinite or above
    /// [`crate::VIOLATION_PRICE_MAX`].
    #[error(
        "SPATIAL_BAD_VIOLATION_PRICE: violation price is {value}; it must be finite, > 0 and at \
         most 1e18 minor units per receptor unit"
    )]
    BadViolationPrice {
        /// The value given.
        value: f64,
    },
    /// A step asks for zero lots.
    #[error("SPATIAL_ZERO_QUANTITY: step {step:?} has quantity 0")]
    ZeroQuantity {
        /// The step's id.
        step: String,
    },
    /// A step asks for more than [`crate::QUANTITY_MAX`] lots.
    #[error("SPATIAL_QUANTITY_TOO_LARGE: step {step:?} has quantity {quantity} > 10^12 lots")]
    QuantityTooLarge {
        /// The step's id.
        step: String,
        /// The quantity given.
        quantity: u64,
    },
    /// All steps together ask for more than [`crate::TOTAL_QUANTITY_MAX`] lots.
    #[error("SPATIAL_TOTAL_TOO_LARGE: the steps total {total} lots > 10^15")]
    TotalQuantityTooLarge {
        /// The total.
        total: u128,
    },
    /// A step's price is negative.
    #[error("SPATIAL_NEGATIVE_PRICE: step {step:?} has price {price} < 0")]
    NegativePrice {
        /// The step's id.
        step: String,
        /// The price given, minor units per lot.
        price: i64,
    },
    /// A step's price is above [`crate::PRICE_MAX`].
    #[error("SPATIAL_PRICE_TOO_LARGE: step {step:?} has price {price} minor units per lot > 10^12")]
    PriceTooLarge {
        /// The step's id.
        step: String,
        /// The price given, minor units per lot.
        price: i64,
    },
    /// An integer result (money, net change) does not fit its type.
    #[error("SPATIAL_OVERFLOW: {0} does not fit")]
    Overflow(&'static str),
    /// The LP solver failed, its solution could not be supported by prices, or the result failed
    /// the final checks (a receptor with a non-negative headroom or the cap overloaded, a
    /// settlement price outside the bounds its fills set): a numerical failure, never a result
    /// that breaks a limit.
    #[error("SPATIAL_SOLVER: {0}")]
    Solver(String),
}
