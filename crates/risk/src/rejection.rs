//! [`Rejection`]: a refused order, with its stable reason code and the numbers behind it.

use std::fmt;

use tradepulse_model::{Money, Price, Quantity, RejectReason};

/// The values a rejection compared. Kept typed (no `String`), so refusing an order allocates
/// nothing and a log line can show exactly what was over which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// Nothing to add beyond the reason (a kill switch, a missing reference price).
    None,
    /// A quantity against its limit.
    Quantity {
        /// The quantity the order would reach.
        value: Quantity,
        /// The limit.
        limit: Quantity,
    },
    /// An amount against its limit.
    Money {
        /// The amount the order would reach.
        value: Money,
        /// The limit.
        limit: Money,
    },
    /// A count against its limit.
    Count {
        /// The count the order would reach.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// A price outside the band around the reference.
    Price {
        /// The order's price.
        price: Price,
        /// The reference price.
        reference: Price,
    },
}

/// An order the risk engine refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code the strategy receives and metrics count.
    pub reason: RejectReason,
    /// What was compared.
    pub breach: Breach,
}

impl Rejection {
    pub(crate) const fn new(reason: RejectReason) -> Self {
        Self {
            reason,
            breach: Breach::None,
        }
    }

    pub(crate) const fn quantity(reason: RejectReason, value: Quantity, limit: Quantity) -> Self {
        Self {
            reason,
            breach: Breach::Quantity { value, limit },
        }
    }

    pub(crate) const fn money(reason: RejectReason, value: Money, limit: Money) -> Self {
        Self {
            reason,
            breach: Breach::Money { value, limit },
        }
    }
}

impl From<RejectReason> for Rejection {
    fn from(reason: RejectReason) -> Self {
        Self::new(reason)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason.code())?;
        match self.breach {
            Breach::None => Ok(()),
            Breach::Quantity { value, limit } => write!(f, ": value={value}, limit={limit}"),
            Breach::Money { value, limit } => write!(f, ": value={value}, limit={limit}"),
            Breach::Count { value, limit } => write!(f, ": value={value}, limit={limit}"),
            Breach::Price { price, reference } => {
                write!(f, ": price={price}, reference={reference}")
            }
        }
    }
}
