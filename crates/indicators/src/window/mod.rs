//! Window storage shared by the indicators: a fixed ring, a rolling extremum, a rolling
//! variance and an order-statistics tree.

pub(crate) mod extremum;
pub(crate) mod order_stats;
pub(crate) mod ring;
pub(crate) mod variance;

pub(crate) use extremum::{Extremum, Side};
pub(crate) use order_stats::{CompSum, OrderStats, Summary};
pub(crate) use ring::Ring;
pub(crate) use variance::{CHUNK, RollingVariance, std_dev};
