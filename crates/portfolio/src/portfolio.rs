//! [`Portfolio`]: what the account holds and what it is worth.

use tradepulse_model::{
    Asset, CashAccount, Fill, Instrument, InstrumentId, Money, Overflow, Position, Price, Quantity,
    UnixNanos,
};

use crate::AccountConfig;

/// Index of an instrument in a [`Portfolio`] (and in the pipeline that owns it): the order in
/// which instruments were added. Cheap to copy and compare, unlike an [`InstrumentId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrumentKey(u32);

impl InstrumentKey {
    /// The key's position in the order instruments were added.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A portfolio that cannot hold an instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    /// The instrument settles in another currency than the account: there is no FX model.
    #[error(
        "{instrument} settles in {instrument_currency} but the account is in {account_currency}; one portfolio holds instruments of one currency"
    )]
    CurrencyMismatch {
        /// The instrument.
        instrument: InstrumentId,
        /// Its quote currency.
        instrument_currency: Asset,
        /// The account's currency.
        account_currency: Asset,
    },
    /// The instrument was added before.
    #[error("{0} is already in the portfolio")]
    Duplicate(InstrumentId),
    /// More instruments than an [`InstrumentKey`] can count.
    #[error("too many instruments")]
    TooMany,
}

/// One balance of [`Portfolio::balances`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetBalance {
    /// The asset.
    pub asset: Asset,
    /// How much of it is held (negative: owed).
    pub amount: Money,
}

/// What booking a fill did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    /// PnL the fill realised (before fees).
    pub realized_pnl: Money,
    /// Position quantity before the fill.
    pub position_before: Quantity,
    /// Position quantity after the fill (and a fee charged in the instrument's own asset).
    pub position_after: Quantity,
}

#[derive(Debug, Clone)]
struct Holding {
    instrument: Instrument,
    position: Position,
    /// Latest known price (a bar's close, a trade), `None` until one is seen.
    mark: Option<Price>,
    // f64 mirrors refreshed on fills and marks, so marking equity every bar costs a
    // multiply-add instead of 128-bit arithmetic.
    mark_f64: f64,
    quantity_f64: f64,
    /// Short market value at this holding's previous close and when that was (borrow accrual).
    short_since: Option<(Money, UnixNanos)>,
}

/// Positions per instrument, cash and other per-asset balances of one account, with exact
/// accounting.
///
/// # Accounting identity
///
/// With every fill booked through [`Portfolio::apply_fill`] and every cost through
/// [`Portfolio::accrue`], this holds exactly (property-tested):
///
/// ```text
/// cash + Σ quantity × mark = initial cash + realised PnL + unrealised PnL
///                            − fees paid in cash − borrow − financing
/// ```
///
/// A fee charged in an instrument's own (base) asset reduces that position's quantity at an
/// unchanged cost basis; a fee in a third asset (BNB on Binance) reduces that asset's balance,
/// which [`Portfolio::equity`] does not value (there is no FX model).
#[derive(Debug, Clone)]
pub struct Portfolio {
    currency: Asset,
    account: AccountConfig,
    initial_cash: Money,
    cash: CashAccount,
    cash_f64: f64,
    holdings: Vec<Holding>,
    /// Balances of assets that are neither the cash currency nor a held instrument's base asset.
    other: Vec<AssetBalance>,
    /// Fees charged in assets other than the cash currency.
    other_fees: Vec<AssetBalance>,
    /// A negative cash balance and since when it was owed (margin financing accrual).
    debt_since: Option<(Money, UnixNanos)>,
}

const YEAR_NANOS: i128 = 31_557_600 * 1_000_000_000;

impl Portfolio {
    /// An empty portfolio holding `initial_cash` of `currency`.
    #[must_use]
    pub fn new(currency: Asset, initial_cash: Money, account: AccountConfig) -> Self {
        Self {
            currency,
            account,
            initial_cash,
            cash: CashAccount::new(initial_cash),
            cash_f64: initial_cash.as_f64(),
            holdings: Vec::new(),
            other: Vec::new(),
            other_fees: Vec::new(),
            debt_since: None,
        }
    }

    /// Adds an instrument (flat, no price yet) and returns its key.
    ///
    /// # Errors
    /// [`PortfolioError`] if it settles in another currency or is already held.
    pub fn add_instrument(
        &mut self,
        instrument: Instrument,
    ) -> Result<InstrumentKey, PortfolioError> {
        if instrument.quote_currency() != self.currency {
            return Err(PortfolioError::CurrencyMismatch {
                instrument: instrument.id().clone(),
                instrument_currency: instrument.quote_currency(),
                account_currency: self.currency,
            });
        }
        if self.key_of(instrument.id()).is_some() {
            return Err(PortfolioError::Duplicate(instrument.id().clone()));
        }
        let key =
            InstrumentKey(u32::try_from(self.holdings.len()).map_err(|_| PortfolioError::TooMany)?);
        self.holdings.push(Holding {
            instrument,
            position: Position::default(),
            mark: None,
            mark_f64: 0.0,
            quantity_f64: 0.0,
            short_since: None,
        });
        Ok(key)
    }

    /// The key of an instrument, if it is held.
    #[must_use]
    pub fn key_of(&self, id: &InstrumentId) -> Option<InstrumentKey> {
        self.holdings
            .iter()
            .position(|h| h.instrument.id() == id)
            .map(|i| InstrumentKey(i as u32))
    }

    /// Number of instruments.
    #[must_use]
    pub fn len(&self) -> usize {
        self.holdings.len()
    }

    /// True if no instrument was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.holdings.is_empty()
    }

    /// Every key, in the order instruments were added.
    pub fn keys(&self) -> impl Iterator<Item = InstrumentKey> + use<> {
        (0..self.holdings.len() as u32).map(InstrumentKey)
    }

    /// The instrument of `key`.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[must_use]
    pub fn instrument(&self, key: InstrumentKey) -> &Instrument {
        &self.holdings[key.index()].instrument
    }

    /// The position in `key`.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[must_use]
    pub fn position(&self, key: InstrumentKey) -> &Position {
        &self.holdings[key.index()].position
    }

    /// The latest price of `key`, if one is known.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[must_use]
    pub fn mark(&self, key: InstrumentKey) -> Option<Price> {
        self.holdings[key.index()].mark
    }

    /// The account's kind and terms.
    #[must_use]
    pub const fn account(&self) -> &AccountConfig {
        &self.account
    }

    /// The account (cash) currency.
    #[must_use]
    pub const fn currency(&self) -> Asset {
        self.currency
    }

    /// Starting cash.
    #[must_use]
    pub const fn initial_cash(&self) -> Money {
        self.initial_cash
    }

    /// Cash in the account currency (negative in a margin account that borrowed).
    #[must_use]
    pub const fn cash(&self) -> Money {
        self.cash.cash()
    }

    /// Fees paid in the account currency.
    #[must_use]
    pub const fn fees_paid(&self) -> Money {
        self.cash.fees_paid()
    }

    /// Fees charged in other assets (an instrument's base asset, BNB), per asset.
    #[must_use]
    pub fn other_fees(&self) -> &[AssetBalance] {
        &self.other_fees
    }

    /// Borrow costs of short positions paid.
    #[must_use]
    pub const fn borrow_paid(&self) -> Money {
        self.cash.borrow_paid()
    }

    /// Financing costs of a negative cash balance paid.
    #[must_use]
    pub const fn financing_paid(&self) -> Money {
        self.cash.financing_paid()
    }

    /// Market value of `key`'s position at its mark (zero without a mark).
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[must_use]
    pub fn market_value(&self, key: InstrumentKey) -> Money {
        let h = &self.holdings[key.index()];
        h.mark.map_or(Money::ZERO, |m| h.position.market_value(m))
    }

    /// Exact equity: cash plus every position at its mark.
    #[must_use]
    pub fn equity(&self) -> Money {
        let value: i128 = self
            .holdings
            .iter()
            .filter_map(|h| h.mark.map(|m| h.position.market_value(m).raw()))
            .sum();
        Money::from_raw(self.cash.cash().raw() + value)
    }

    /// Equity in `f64`, for the equity curve and analytics (the exact value is
    /// [`Portfolio::equity`]).
    #[must_use]
    #[inline]
    pub fn equity_f64(&self) -> f64 {
        if let [h] = self.holdings.as_slice() {
            return self.cash_f64 + h.quantity_f64 * h.mark_f64;
        }
        self.cash_f64
            + self
                .holdings
                .iter()
                .map(|h| h.quantity_f64 * h.mark_f64)
                .sum::<f64>()
    }

    /// Value of every position except `key`'s, at their marks.
    #[must_use]
    pub fn others_value(&self, key: InstrumentKey) -> Money {
        if self.holdings.len() == 1 {
            return Money::ZERO;
        }
        let raw = self
            .holdings
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != key.index())
            .filter_map(|(_, h)| h.mark.map(|m| h.position.market_value(m).raw()))
            .sum();
        Money::from_raw(raw)
    }

    /// Σ |market value| of the positions.
    #[must_use]
    pub fn gross_exposure(&self) -> Money {
        let raw = self
            .holdings
            .iter()
            .filter_map(|h| h.mark.map(|m| h.position.market_value(m).raw().abs()))
            .sum();
        Money::from_raw(raw)
    }

    /// Σ market value of the positions (longs minus shorts).
    #[must_use]
    pub fn net_exposure(&self) -> Money {
        let raw = self
            .holdings
            .iter()
            .filter_map(|h| h.mark.map(|m| h.position.market_value(m).raw()))
            .sum();
        Money::from_raw(raw)
    }

    /// True if some position is not flat.
    #[must_use]
    pub fn is_exposed(&self) -> bool {
        self.holdings.iter().any(|h| !h.position.is_flat())
    }

    /// Every balance: the cash currency first, then each spot instrument's base asset (its
    /// position), then other assets (fees charged in them), in the order they appeared.
    #[must_use]
    pub fn balances(&self) -> Vec<AssetBalance> {
        let mut out = vec![AssetBalance {
            asset: self.currency,
            amount: self.cash.cash(),
        }];
        for h in &self.holdings {
            if let Some(base) = h.instrument.base_asset() {
                out.push(AssetBalance {
                    asset: base,
                    amount: Money::from_raw(i128::from(h.position.quantity().raw())),
                });
            }
        }
        out.extend_from_slice(&self.other);
        out
    }

    /// Sets `key`'s latest price (a trade, a bar's open) without closing the period: no borrow
    /// or financing clock starts.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[inline]
    pub fn set_mark(&mut self, key: InstrumentKey, price: Price) {
        let h = &mut self.holdings[key.index()];
        h.mark = Some(price);
        h.mark_f64 = price.as_f64();
    }

    /// Marks `key` at a period's close `price` at `ts`, and starts the clocks of the costs
    /// that accrue until the next period: borrow on a short position, financing on a negative
    /// cash balance (margin accounts with non-zero rates only).
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[inline]
    pub fn close_period(&mut self, key: InstrumentKey, price: Price, ts: UnixNanos) {
        self.set_mark(key, price);
        self.start_accruals(key, ts);
    }

    /// Starts the clocks of the costs that accrue until the next period at `key`'s current
    /// mark (see [`Portfolio::close_period`]); free when the account has no such costs.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[inline]
    pub fn start_accruals(&mut self, key: InstrumentKey, ts: UnixNanos) {
        if self.account.short_borrow_bps.raw() == 0 && self.account.financing_bps.raw() == 0 {
            return;
        }
        let price = self.holdings[key.index()].mark.unwrap_or(Price::ZERO);
        if self.account.short_borrow_bps.raw() != 0 {
            let h = &mut self.holdings[key.index()];
            if h.position.quantity().is_negative() {
                h.short_since = Some((h.position.market_value(price).abs(), ts));
            }
        }
        if self.account.financing_bps.raw() != 0 && self.cash.cash().is_negative() {
            self.debt_since = Some((self.cash.cash().abs(), ts));
        }
    }

    /// Charges the borrow on `key`'s short position and the financing of a negative cash balance
    /// for the time from the last [`Portfolio::close_period`] to `to`.
    ///
    /// # Errors
    /// [`Overflow`] if a balance leaves the fixed-point range.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    #[inline]
    pub fn accrue(&mut self, key: InstrumentKey, to: UnixNanos) -> Result<(), Overflow> {
        if self.holdings[key.index()].short_since.is_none() && self.debt_since.is_none() {
            return Ok(());
        }
        if let Some((short_value, from)) = self.holdings[key.index()].short_since.take() {
            let elapsed = i128::from(to.as_nanos() - from.as_nanos());
            let annual = short_value.bps(self.account.short_borrow_bps);
            self.cash
                .pay_borrow(Money::from_raw(annual.raw() * elapsed / YEAR_NANOS))?;
            self.cash_f64 = self.cash.cash().as_f64();
        }
        if let Some((debt, from)) = self.debt_since.take() {
            let elapsed = i128::from(to.as_nanos() - from.as_nanos());
            let annual = debt.bps(self.account.financing_bps);
            self.cash
                .pay_financing(Money::from_raw(annual.raw() * elapsed / YEAR_NANOS))?;
            self.cash_f64 = self.cash.cash().as_f64();
        }
        Ok(())
    }

    /// Books a fill of `key`: the position, cash (notional and a fee in cash), and a fee charged
    /// in another asset.
    ///
    /// # Errors
    /// [`Overflow`] if a position or balance leaves the fixed-point range; nothing is changed
    /// then.
    ///
    /// # Panics
    /// If `key` did not come from this portfolio.
    pub fn apply_fill(&mut self, key: InstrumentKey, fill: &Fill) -> Result<Booking, Overflow> {
        let currency = self.currency;
        let h = &mut self.holdings[key.index()];
        let base = h.instrument.base_asset();
        let before = h.position.quantity();
        let mut position = h.position;
        let mut cash = self.cash;
        let realized = position.apply(fill.side, fill.quantity, fill.price)?;
        let cash_fee = if fill.fee_asset == currency {
            fill.fee
        } else {
            Money::ZERO
        };
        cash.settle(fill.side, fill.notional(), cash_fee)?;
        if Some(fill.fee_asset) == base && fill.fee_asset != currency {
            let units = i64::try_from(fill.fee.raw()).map_err(|_| Overflow)?;
            position.remove_units(Quantity::from_raw(units))?;
        }
        if fill.fee_asset != currency {
            if Some(fill.fee_asset) != base {
                add_to(&mut self.other, fill.fee_asset, fill.fee.neg())?;
            }
            add_to(&mut self.other_fees, fill.fee_asset, fill.fee)?;
        }
        h.position = position;
        h.quantity_f64 = position.quantity().as_f64();
        self.cash = cash;
        self.cash_f64 = cash.cash().as_f64();
        Ok(Booking {
            realized_pnl: realized,
            position_before: before,
            position_after: position.quantity(),
        })
    }

    /// Books an external change of one balance: a deposit or a withdrawal, or what a live
    /// account held before this portfolio started booking it (its opening balances, found by
    /// reconciliation). `amount` is signed, in units of `asset`.
    ///
    /// - The account currency: cash moves by `amount`.
    /// - The base asset of a held spot instrument: the position grows by `amount` at `price` per
    ///   unit (its cost basis, so nothing is realised; units brought into a short position of a
    ///   margin account cover it at `price`), or shrinks by it at an unchanged cost basis (as a
    ///   fee in that asset does).
    /// - Any other asset: its entry in [`Portfolio::balances`].
    ///
    /// The value brought in (cash, or quantity × `price`) is added to
    /// [`Portfolio::initial_cash`], which then reads as the capital put in: the accounting
    /// identity of the type still holds exactly, and no PnL is made by moving money.
    ///
    /// # Errors
    /// [`Overflow`] if a balance leaves the fixed-point range; nothing is changed then.
    pub fn adjust_balance(
        &mut self,
        asset: Asset,
        amount: Money,
        price: Price,
    ) -> Result<(), Overflow> {
        if asset == self.currency {
            let mut cash = self.cash;
            let side = if amount.is_negative() {
                tradepulse_model::Side::Buy
            } else {
                tradepulse_model::Side::Sell
            };
            cash.settle(side, amount.abs(), Money::ZERO)?;
            let initial = self.initial_cash.checked_add(amount).ok_or(Overflow)?;
            self.cash = cash;
            self.cash_f64 = cash.cash().as_f64();
            self.initial_cash = initial;
            return Ok(());
        }
        let Some(h) = self
            .holdings
            .iter_mut()
            .find(|h| h.instrument.base_asset() == Some(asset))
        else {
            return add_to(&mut self.other, asset, amount);
        };
        let units = Quantity::from_raw(i64::try_from(amount.raw()).map_err(|_| Overflow)?);
        let mut position = h.position;
        let mut initial = self.initial_cash;
        if units.is_negative() {
            position.remove_units(units.neg())?;
        } else {
            position.apply(tradepulse_model::Side::Buy, units, price)?;
            initial = initial.checked_add(price.notional(units)).ok_or(Overflow)?;
        }
        h.position = position;
        h.quantity_f64 = position.quantity().as_f64();
        self.initial_cash = initial;
        Ok(())
    }
}

fn add_to(balances: &mut Vec<AssetBalance>, asset: Asset, amount: Money) -> Result<(), Overflow> {
    match balances.iter_mut().find(|b| b.asset == asset) {
        Some(b) => b.amount = b.amount.checked_add(amount).ok_or(Overflow)?,
        None => balances.push(AssetBalance { asset, amount }),
    }
    Ok(())
}
