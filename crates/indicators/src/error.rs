//! [`Error`]: what can go wrong when building or feeding an indicator.

/// Errors of this crate. Every variant is a caller mistake to fix (a parameter or an input
/// shape); nothing here is transient, so retrying the same call never helps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A window length or period is below the indicator's minimum.
    #[error("{indicator}: {parameter} must be at least {min}, got {value}")]
    PeriodTooSmall {
        /// Indicator name, e.g. `"SMA"`.
        indicator: &'static str,
        /// Parameter name, e.g. `"period"`.
        parameter: &'static str,
        /// The value given.
        value: usize,
        /// The smallest accepted value.
        min: usize,
    },
    /// A real-valued parameter is outside its accepted range (or not finite).
    #[error("{indicator}: {parameter} must be in {range}, got {value}")]
    ParameterOutOfRange {
        /// Indicator name.
        indicator: &'static str,
        /// Parameter name.
        parameter: &'static str,
        /// The value given.
        value: f64,
        /// The accepted range, as text for the message, e.g. `"[0, 1)"`.
        range: &'static str,
    },
    /// Two parameters contradict each other (e.g. a fast period not shorter than the slow one).
    #[error("{indicator}: {message}")]
    InconsistentParameters {
        /// Indicator name.
        indicator: &'static str,
        /// What is inconsistent and how to fix it.
        message: &'static str,
    },
    /// A multi-instrument update got the wrong number of values.
    #[error("{indicator}: expected {expected} values per update, got {got}")]
    WidthMismatch {
        /// Indicator name.
        indicator: &'static str,
        /// Number of instruments the indicator was built for.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// A serialised state (checkpoint) breaks an invariant of the indicator.
    #[error("invalid checkpoint state: {0}")]
    InvalidState(&'static str),
    /// An indicator specification string such as `rsi:14` could not be understood.
    #[error(
        "indicator spec {spec:?}: {reason}; run `tradepulse indicators --list` for the names and parameters"
    )]
    InvalidSpec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Checks an integer period against a minimum.
pub(crate) fn check_period(
    indicator: &'static str,
    parameter: &'static str,
    value: usize,
    min: usize,
) -> Result<usize, Error> {
    if value < min {
        return Err(Error::PeriodTooSmall {
            indicator,
            parameter,
            value,
            min,
        });
    }
    Ok(value)
}

/// Checks that a window length fits the order-statistics tree
/// ([`crate::window::order_stats::MAX_CAPACITY`]).
pub(crate) fn check_window_max(
    indicator: &'static str,
    parameter: &'static str,
    value: usize,
) -> Result<usize, Error> {
    if value > crate::window::order_stats::MAX_CAPACITY {
        return Err(Error::ParameterOutOfRange {
            indicator,
            parameter,
            value: value as f64,
            range: "[2, 4294967294]",
        });
    }
    Ok(value)
}

/// Checks that a real parameter is finite and inside `[lo, hi]` (closed).
pub(crate) fn check_range(
    indicator: &'static str,
    parameter: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: &'static str,
) -> Result<f64, Error> {
    if !(value.is_finite() && value >= lo && value <= hi) {
        return Err(Error::ParameterOutOfRange {
            indicator,
            parameter,
            value,
            range,
        });
    }
    Ok(value)
}

/// Serde helper for checkpoint fields that must be at least 1 (periods, steps, countdowns): a
/// corrupt checkpoint with 0 is refused at load time instead of panicking later on `n − 1`.
pub(crate) fn nonzero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = <usize as serde::Deserialize>::deserialize(d)?;
    if v == 0 {
        return Err(serde::de::Error::custom(
            "a period or countdown in a checkpoint must be at least 1",
        ));
    }
    Ok(v)
}

/// [`nonzero`] for an `i64` that must be positive (session length).
pub(crate) fn positive_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = <i64 as serde::Deserialize>::deserialize(d)?;
    if v < 1 {
        return Err(serde::de::Error::custom(
            "a session length in a checkpoint must be positive",
        ));
    }
    Ok(v)
}
