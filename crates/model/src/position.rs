//! [`Position`] and [`CashAccount`]: exact accounting of what is held.
//!
//! # Accounting identity
//!
//! A position keeps its signed quantity and its signed **cost basis** (the exact sum of
//! `price × quantity` of the lots still open). Reducing a position releases the matching share
//! of the cost basis (rounded half-even at 1e-9, and whatever is rounded stays in the basis, so
//! nothing leaks). With cash moved by `∓ notional − fee` on every fill, this holds exactly at all
//! times (property-tested):
//!
//! ```text
//! cash + quantity × mark = initial cash + realised PnL + unrealised PnL − fees − borrow
//! unrealised PnL = quantity × mark − cost basis
//! ```

use crate::fixed;
use crate::{Money, Price, Quantity, Side};

/// A net position in one instrument: long (`quantity > 0`), short (`< 0`) or flat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    quantity: Quantity,
    cost_basis: Money,
    realized_pnl: Money,
}

/// Accounting overflowed the fixed-point range (an absurd position or price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("position arithmetic overflowed")]
pub struct Overflow;

impl Position {
    /// Signed quantity (negative = short).
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// True if flat.
    #[must_use]
    pub const fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }

    /// Signed cost basis of the open quantity.
    #[must_use]
    pub const fn cost_basis(&self) -> Money {
        self.cost_basis
    }

    /// Realised PnL so far (before fees).
    #[must_use]
    pub const fn realized_pnl(&self) -> Money {
        self.realized_pnl
    }

    /// Average entry price, for display (`None` when flat).
    #[must_use]
    pub fn avg_price(&self) -> Option<f64> {
        (!self.quantity.is_zero()).then(|| self.cost_basis.as_f64() / self.quantity.as_f64())
    }

    /// Signed market value `quantity × mark`.
    #[must_use]
    pub fn market_value(&self, mark: Price) -> Money {
        mark.notional(self.quantity)
    }

    /// Unrealised PnL at `mark`.
    #[must_use]
    pub fn unrealized_pnl(&self, mark: Price) -> Money {
        Money::from_raw(self.market_value(mark).raw() - self.cost_basis.raw())
    }

    /// Holds `quantity` fewer units at the same cost basis: a fee paid in the instrument's own
    /// asset (buying 1 BTC with a 0.001 BTC fee leaves 0.999 BTC that cost the whole notional).
    /// Realises nothing; a flat position stays flat only if `quantity` is zero.
    ///
    /// # Errors
    /// [`Overflow`] if the quantity leaves the fixed-point range; the position is unchanged then.
    pub fn remove_units(&mut self, quantity: Quantity) -> Result<(), Overflow> {
        let new_qty = self
            .quantity
            .raw()
            .checked_sub(quantity.raw())
            .ok_or(Overflow)?;
        self.quantity = Quantity::from_raw(new_qty);
        Ok(())
    }

    /// Books a fill and returns the PnL it realised (zero when it only adds to the position).
    ///
    /// # Errors
    /// [`Overflow`] if the position leaves the fixed-point range; the position is unchanged then.
    pub fn apply(
        &mut self,
        side: Side,
        quantity: Quantity,
        price: Price,
    ) -> Result<Money, Overflow> {
        let signed = if side == Side::Buy {
            quantity
        } else {
            quantity.neg()
        };
        let current = self.quantity.raw();
        let delta = signed.raw();
        let new_qty = current.checked_add(delta).ok_or(Overflow)?;
        let mut cost = self.cost_basis.raw();
        let mut realized = 0i128;
        let same_direction = current == 0 || (current > 0) == (delta > 0);
        if same_direction {
            cost = cost
                .checked_add(price.notional(signed).raw())
                .ok_or(Overflow)?;
        } else {
            // Close min(|current|, |delta|), then open any remainder on the other side.
            let closing = current.unsigned_abs().min(delta.unsigned_abs()) as i128;
            let released = if closing == i128::from(current.unsigned_abs()) {
                cost
            } else {
                fixed::div_round_half_even(cost * closing, i128::from(current.unsigned_abs()))
            };
            let closing_signed = if current > 0 { closing } else { -closing };
            // Proceeds of closing `closing_signed` at `price`, at scale 1e-9.
            let proceeds = price
                .notional(Quantity::from_raw(closing_signed as i64))
                .raw();
            realized = proceeds - released;
            cost -= released;
            let remainder = delta + closing_signed as i64;
            if remainder != 0 {
                cost = cost
                    .checked_add(price.notional(Quantity::from_raw(remainder)).raw())
                    .ok_or(Overflow)?;
            }
        }
        self.quantity = Quantity::from_raw(new_qty);
        self.cost_basis = Money::from_raw(cost);
        self.realized_pnl = Money::from_raw(self.realized_pnl.raw() + realized);
        Ok(Money::from_raw(realized))
    }
}

/// A cash balance in the quote currency. Buying spends cash, selling (also short) receives it;
/// fees are always paid from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashAccount {
    cash: Money,
    fees_paid: Money,
    borrow_paid: Money,
    financing_paid: Money,
}

impl CashAccount {
    /// An account holding `initial` cash.
    #[must_use]
    pub const fn new(initial: Money) -> Self {
        Self {
            cash: initial,
            fees_paid: Money::ZERO,
            borrow_paid: Money::ZERO,
            financing_paid: Money::ZERO,
        }
    }

    /// Borrow costs of short positions paid so far.
    #[must_use]
    pub const fn borrow_paid(&self) -> Money {
        self.borrow_paid
    }

    /// Pays `amount` of borrow cost for a short position.
    ///
    /// # Errors
    /// [`Overflow`] if the balance leaves the fixed-point range; the account is unchanged then.
    pub fn pay_borrow(&mut self, amount: Money) -> Result<(), Overflow> {
        let cash = self.cash.checked_sub(amount).ok_or(Overflow)?;
        self.borrow_paid = self.borrow_paid.checked_add(amount).ok_or(Overflow)?;
        self.cash = cash;
        Ok(())
    }

    /// Financing costs of a negative (borrowed) balance paid so far.
    #[must_use]
    pub const fn financing_paid(&self) -> Money {
        self.financing_paid
    }

    /// Pays `amount` of financing for a borrowed (negative) balance.
    ///
    /// # Errors
    /// [`Overflow`] if the balance leaves the fixed-point range; the account is unchanged then.
    pub fn pay_financing(&mut self, amount: Money) -> Result<(), Overflow> {
        let cash = self.cash.checked_sub(amount).ok_or(Overflow)?;
        self.financing_paid = self.financing_paid.checked_add(amount).ok_or(Overflow)?;
        self.cash = cash;
        Ok(())
    }

    /// Current cash.
    #[must_use]
    pub const fn cash(&self) -> Money {
        self.cash
    }

    /// Fees paid so far.
    #[must_use]
    pub const fn fees_paid(&self) -> Money {
        self.fees_paid
    }

    /// Moves cash for a fill: `−notional − fee` on a buy, `+notional − fee` on a sell.
    ///
    /// # Errors
    /// [`Overflow`] if the balance leaves the fixed-point range; the account is unchanged then.
    pub fn settle(&mut self, side: Side, notional: Money, fee: Money) -> Result<(), Overflow> {
        let flow = match side {
            Side::Buy => notional.neg(),
            Side::Sell => notional,
        };
        let cash = self
            .cash
            .checked_add(flow)
            .and_then(|c| c.checked_sub(fee))
            .ok_or(Overflow)?;
        self.fees_paid = self.fees_paid.checked_add(fee).ok_or(Overflow)?;
        self.cash = cash;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }
    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    #[test]
    fn long_round_trip_realises_exactly() {
        let mut pos = Position::default();
        pos.apply(Side::Buy, q("2"), p("100.10")).unwrap();
        pos.apply(Side::Buy, q("1"), p("100.40")).unwrap();
        assert_eq!(pos.cost_basis().to_string(), "300.60");
        let r = pos.apply(Side::Sell, q("1"), p("101")).unwrap();
        assert_eq!(r.to_string(), "0.80");
        let r = pos.apply(Side::Sell, q("2"), p("99")).unwrap();
        assert_eq!(r.to_string(), "-2.40");
        assert!(pos.is_flat());
        assert_eq!(pos.cost_basis(), Money::ZERO);
        assert_eq!(pos.realized_pnl().to_string(), "-1.60");
    }

    #[test]
    fn flipping_through_zero_opens_the_remainder() {
        let mut pos = Position::default();
        pos.apply(Side::Buy, q("1"), p("10")).unwrap();
        let r = pos.apply(Side::Sell, q("3"), p("12")).unwrap();
        assert_eq!(r.to_string(), "2.00");
        assert_eq!(pos.quantity(), q("-2"));
        assert_eq!(pos.cost_basis().to_string(), "-24.00");
        assert_eq!(pos.unrealized_pnl(p("11")).to_string(), "2.00");
        let r = pos.apply(Side::Buy, q("2"), p("13")).unwrap();
        assert_eq!(r.to_string(), "-2.00");
        assert!(pos.is_flat());
    }

    #[test]
    fn cash_account_charges_fees() {
        let mut acct = CashAccount::new("1000".parse().unwrap());
        acct.settle(Side::Buy, "100".parse().unwrap(), "0.1".parse().unwrap())
            .unwrap();
        assert_eq!(acct.cash().to_string(), "899.90");
        acct.settle(Side::Sell, "50".parse().unwrap(), "0.05".parse().unwrap())
            .unwrap();
        assert_eq!(acct.cash().to_string(), "949.85");
        assert_eq!(acct.fees_paid().to_string(), "0.15");
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn fill_strategy() -> impl Strategy<Value = (bool, i64, i64, i64)> {
        // side, quantity in thousandths, price in cents, fee in cents
        (any::<bool>(), 1i64..50_000, 1i64..1_000_000, 0i64..1_000)
    }

    proptest! {
        /// cash + qty × mark == initial + realised + unrealised − fees, exactly, after any fills.
        #[test]
        fn prop_accounting_identity(fills in proptest::collection::vec(fill_strategy(), 1..60),
                                    mark_cents in 1i64..1_000_000) {
            let initial: Money = "1000000".parse().unwrap();
            let mut account = CashAccount::new(initial);
            let mut position = Position::default();
            for (buy, qty, px, fee) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                let quantity = Quantity::from_raw(qty * 1_000_000);
                let price = Price::from_raw(px * 10_000_000);
                let fee = Money::from_raw(i128::from(fee) * 10_000_000);
                position.apply(side, quantity, price).unwrap();
                account.settle(side, price.notional(quantity), fee).unwrap();
            }
            let mark = Price::from_raw(mark_cents * 10_000_000);
            let equity = account.cash().raw() + position.market_value(mark).raw();
            let rhs = initial.raw() + position.realized_pnl().raw()
                + position.unrealized_pnl(mark).raw() - account.fees_paid().raw();
            prop_assert_eq!(equity, rhs);
        }

        /// Closing everything leaves a zero cost basis, whatever the path.
        #[test]
        fn prop_flat_means_zero_basis(fills in proptest::collection::vec(fill_strategy(), 1..40)) {
            let mut position = Position::default();
            for (buy, qty, px, _) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                position.apply(side, Quantity::from_raw(qty * 1_000), Price::from_raw(px * 10_000_000)).unwrap();
            }
            let q = position.quantity();
            if !q.is_zero() {
                let side = if q.is_positive() { Side::Sell } else { Side::Buy };
                position.apply(side, q.abs(), Price::from_raw(123_450_000_000)).unwrap();
            }
            prop_assert_eq!(position.cost_basis(), Money::ZERO);
        }
    }
}
