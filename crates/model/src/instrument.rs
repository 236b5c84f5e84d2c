//! [`Instrument`]: what can be traded and the venue's rules for it.

use serde::Deserialize;

use crate::{Asset, InstrumentId, Money, Price, Quantity};

/// Why an instrument definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// The tick size is not positive.
    #[error("tick_size must be positive, got {0}")]
    TickSize(Price),
    /// The lot size is not positive.
    #[error("lot_size must be positive, got {0}")]
    LotSize(Quantity),
    /// The minimum notional is negative.
    #[error("min_notional must not be negative, got {0}")]
    MinNotional(Money),
    /// The quote currency is not a 3–5 letter code.
    #[error("quote_currency must be 3-5 ASCII letters/digits, got '{0}'")]
    Currency(String),
    /// The base asset is not a valid asset code.
    #[error("base_asset: {0}")]
    BaseAsset(crate::IdError),
}

/// A tradable instrument and its venue rules. Order prices are multiples of `tick_size`, order
/// quantities multiples of `lot_size`, and an order's notional is at least `min_notional`.
///
/// A *spot* instrument names its base asset (`BTC` of `BTCUSDT`): holding it is holding that
/// asset, so a fee charged in the base asset reduces the position. Without a base asset the
/// position is a contract count (an index, a future, a CFD) and fees are paid in cash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    id: InstrumentId,
    quote_currency: Asset,
    base_asset: Option<Asset>,
    tick_size: Price,
    lot_size: Quantity,
    min_notional: Money,
}

impl Instrument {
    /// Builds an instrument, checking its rules.
    ///
    /// # Errors
    /// If the tick or lot size is not positive, the minimum notional is negative or the
    /// currency code is malformed.
    pub fn new(
        id: InstrumentId,
        quote_currency: &str,
        tick_size: Price,
        lot_size: Quantity,
        min_notional: Money,
    ) -> Result<Self, InstrumentError> {
        if !tick_size.is_positive() {
            return Err(InstrumentError::TickSize(tick_size));
        }
        if !lot_size.is_positive() {
            return Err(InstrumentError::LotSize(lot_size));
        }
        if min_notional.is_negative() {
            return Err(InstrumentError::MinNotional(min_notional));
        }
        if !(3..=5).contains(&quote_currency.len()) {
            return Err(InstrumentError::Currency(quote_currency.to_owned()));
        }
        let quote_currency = Asset::new(quote_currency)
            .map_err(|_| InstrumentError::Currency(quote_currency.to_owned()))?;
        Ok(Self {
            id,
            quote_currency,
            base_asset: None,
            tick_size,
            lot_size,
            min_notional,
        })
    }

    /// The instrument id.
    #[must_use]
    pub fn id(&self) -> &InstrumentId {
        &self.id
    }

    /// The quote (settlement) currency, e.g. `USD`.
    #[must_use]
    pub fn quote_currency(&self) -> Asset {
        self.quote_currency
    }

    /// The base asset of a spot instrument (`BTC` of `BTCUSDT`), `None` for contracts.
    #[must_use]
    pub fn base_asset(&self) -> Option<Asset> {
        self.base_asset
    }

    /// The same instrument traded as spot: holding it is holding `base`.
    #[must_use]
    pub fn with_base_asset(mut self, base: Asset) -> Self {
        self.base_asset = Some(base);
        self
    }

    /// The price increment.
    #[must_use]
    pub fn tick_size(&self) -> Price {
        self.tick_size
    }

    /// The quantity increment.
    #[must_use]
    pub fn lot_size(&self) -> Quantity {
        self.lot_size
    }

    /// The smallest order notional the venue accepts.
    #[must_use]
    pub fn min_notional(&self) -> Money {
        self.min_notional
    }

    /// The smallest order the venue accepts at `price`: one lot, or the fewest whole lots whose
    /// notional reaches [`Instrument::min_notional`] (a canary strategy's size).
    #[must_use]
    pub fn min_order_quantity(&self, price: Price) -> Quantity {
        let lot = self.lot_size;
        if self.min_notional <= Money::ZERO || !price.is_positive() {
            return lot;
        }
        let Some(units) = self.min_notional.units_at(price) else {
            return lot;
        };
        let mut q = units.trunc_to(lot);
        if price.notional(q) < self.min_notional {
            q = Quantity::from_raw(q.raw().saturating_add(lot.raw()));
        }
        if q < lot { lot } else { q }
    }

    /// Decimal places implied by the tick size (`0.25` → 2).
    #[must_use]
    pub fn price_precision(&self) -> u8 {
        let mut raw = self.tick_size.raw();
        let mut decimals = 9u8;
        while decimals > 0 && raw % 10 == 0 {
            raw /= 10;
            decimals -= 1;
        }
        decimals
    }
}

/// The plain-data form of an [`Instrument`], as written in a config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// Ticker, e.g. `SPX`.
    pub symbol: String,
    /// Venue name, e.g. `SIM`.
    #[serde(default = "default_venue")]
    pub venue: String,
    /// Quote currency, e.g. `USD`.
    #[serde(default = "default_currency")]
    pub quote_currency: String,
    /// Base asset of a spot instrument, e.g. `BTC` (fees charged in it reduce the position).
    #[serde(default)]
    pub base_asset: Option<String>,
    /// Price increment.
    pub tick_size: Price,
    /// Quantity increment.
    #[serde(default = "default_lot")]
    pub lot_size: Quantity,
    /// Smallest accepted order notional.
    #[serde(default)]
    pub min_notional: Money,
}

fn default_venue() -> String {
    "SIM".to_owned()
}

fn default_currency() -> String {
    "USD".to_owned()
}

fn default_lot() -> Quantity {
    Quantity::from_units(1)
}

/// An instrument spec that does not describe a valid instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentSpecError {
    /// Bad symbol or venue.
    #[error(transparent)]
    Id(#[from] crate::IdError),
    /// Bad venue rules.
    #[error(transparent)]
    Rules(#[from] InstrumentError),
}

impl InstrumentSpec {
    /// Validates the spec into an [`Instrument`].
    ///
    /// # Errors
    /// If the id or the rules are invalid.
    pub fn build(&self) -> Result<Instrument, InstrumentSpecError> {
        let id = InstrumentId::new(&self.symbol, &self.venue)?;
        let instrument = Instrument::new(
            id,
            &self.quote_currency,
            self.tick_size,
            self.lot_size,
            self.min_notional,
        )?;
        Ok(match &self.base_asset {
            Some(code) => {
                instrument.with_base_asset(Asset::new(code).map_err(InstrumentError::BaseAsset)?)
            }
            None => instrument,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_order_is_one_lot_or_the_fewest_lots_reaching_min_notional() {
        let id = InstrumentId::new("BTCUSDT", "BINANCE").unwrap();
        let lot: Quantity = "0.00001".parse().unwrap();
        let btc = Instrument::new(
            id.clone(),
            "USDT",
            "0.01".parse().unwrap(),
            lot,
            "5".parse().unwrap(),
        )
        .unwrap();
        // 5 / 50000 = 0.0001 exactly: ten lots, not eleven.
        let q = btc.min_order_quantity("50000".parse().unwrap());
        assert_eq!(q.to_string(), "0.0001");
        // 5 / 43210.12 = 0.000115713…: rounded up to 0.00012, whose notional is ≥ 5.
        let price: Price = "43210.12".parse().unwrap();
        let q = btc.min_order_quantity(price);
        assert_eq!(q.to_string(), "0.00012");
        assert!(price.notional(q) >= btc.min_notional());
        assert!(price.notional(Quantity::from_raw(q.raw() - lot.raw())) < btc.min_notional());
        // No minimum notional, or a price far above it: one lot.
        let free = Instrument::new(id, "USDT", "0.01".parse().unwrap(), lot, Money::ZERO).unwrap();
        assert_eq!(free.min_order_quantity(price), lot);
        assert_eq!(btc.min_order_quantity("10000000".parse().unwrap()), lot);
        assert_eq!(btc.min_order_quantity(Price::ZERO), lot);
    }

    #[test]
    fn validates_rules() {
        let id = InstrumentId::new("ES", "CME").unwrap();
        let ok = Instrument::new(
            id.clone(),
            "usd",
            "0.25".parse().unwrap(),
            Quantity::from_units(1),
            Money::ZERO,
        )
        .unwrap();
        assert_eq!(ok.quote_currency().as_str(), "USD");
        assert_eq!(ok.price_precision(), 2);
        assert!(
            Instrument::new(
                id.clone(),
                "USD",
                Price::ZERO,
                Quantity::from_units(1),
                Money::ZERO
            )
            .is_err()
        );
        assert!(
            Instrument::new(
                id,
                "US DOLLAR",
                Price::from_raw(1),
                Quantity::from_units(1),
                Money::ZERO
            )
            .is_err()
        );
    }
}
