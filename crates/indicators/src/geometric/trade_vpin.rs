//! [`TradeVpin`]: VPIN from individual trades classified by the tick rule.

use serde::{Deserialize, Serialize};

use super::volume_buckets::VolumeBuckets;
use crate::{Error, Indicator, error::check_period, error::check_range};

/// One trade: price and size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Trade price.
    pub price: f64,
    /// Trade size (volume).
    pub size: f64,
}

/// VPIN from trades: the tick rule classifies a trade above the previous price as a buy, below
/// as a sell, and at the same price like the previous trade (the first trade, with no
/// reference, counts half/half). Buckets and the VPIN formula are those of [`super::Vpin`].
/// Warm-up: until `n` buckets are full. O(1) per trade (amortised), no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeVpin {
    buckets: VolumeBuckets,
    prev_price: Option<f64>,
    side: f64,
}

impl TradeVpin {
    /// VPIN over `buckets` buckets of `bucket_volume`.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `buckets < 1`; [`Error::ParameterOutOfRange`] if
    /// `bucket_volume` is not positive and finite.
    pub fn new(bucket_volume: f64, buckets: usize) -> Result<Self, Error> {
        check_range(
            "TRADE_VPIN",
            "bucket_volume",
            bucket_volume,
            f64::MIN_POSITIVE,
            f64::MAX,
            "(0, max f64]",
        )?;
        check_period("TRADE_VPIN", "buckets", buckets, 1)?;
        Ok(Self {
            buckets: VolumeBuckets::new(bucket_volume, buckets),
            prev_price: None,
            side: 0.5,
        })
    }
}

impl Indicator for TradeVpin {
    type Input = Trade;
    type Output = f64;

    fn update(&mut self, t: Trade) -> Option<f64> {
        if t.price.is_finite() {
            if let Some(prev) = self.prev_price {
                if t.price > prev {
                    self.side = 1.0;
                } else if t.price < prev {
                    self.side = 0.0;
                }
            }
            self.prev_price = Some(t.price);
        }
        self.buckets.add(t.size, self.side);
        self.buckets.vpin()
    }

    fn reset(&mut self) {
        self.buckets.reset();
        self.prev_price = None;
        self.side = 0.5;
    }

    fn is_ready(&self) -> bool {
        self.buckets.vpin().is_some()
    }
}
