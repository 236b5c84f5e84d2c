//! Window storage shared by the indicators: a fixed ring, a rolling extremum and a rolling
//! variance.

pub(crate) mod extremum;
pub(crate) mod ring;
pub(crate) mod variance;

pub(crate) use extremum::{Extremum, Side};
pub(crate) use ring::Ring;
pub(crate) use variance::{CHUNK, RollingVariance, std_dev};
