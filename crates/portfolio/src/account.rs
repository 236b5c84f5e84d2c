//! [`AccountConfig`]: what kind of account the portfolio is, as written under `portfolio:`.

use serde::Deserialize;
use tradepulse_model::{Bps, Ratio};

/// Cash or margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Spends only the cash it has and sells only what it holds: no shorts, no borrowing.
    #[default]
    Cash,
    /// Borrows up to `leverage` × equity of exposure; a negative cash balance pays
    /// `financing_bps` per year and short positions pay `short_borrow_bps` per year.
    Margin,
}

/// The account's kind and its financing terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountConfig {
    /// Cash or margin.
    pub kind: AccountKind,
    /// Margin only: the largest gross exposure per unit of equity (2 = Reg-T style 50 %
    /// initial margin). Must be ≥ 1.
    pub leverage: Ratio,
    /// Margin only: annual cost of a negative cash balance, in bp, accrued on calendar time
    /// (365.25-day year).
    pub financing_bps: Bps,
    /// Margin only: annual cost of borrowing for short positions, in bp of their market value,
    /// accrued bar by bar on calendar time (365.25-day year).
    pub short_borrow_bps: Bps,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self::cash()
    }
}

impl AccountConfig {
    /// A cash account.
    #[must_use]
    pub const fn cash() -> Self {
        Self {
            kind: AccountKind::Cash,
            leverage: Ratio::from_raw(1_000_000_000),
            financing_bps: Bps::ZERO,
            short_borrow_bps: Bps::ZERO,
        }
    }

    /// A margin account with `leverage` and no financing costs.
    #[must_use]
    pub const fn margin(leverage: Ratio) -> Self {
        Self {
            kind: AccountKind::Margin,
            leverage,
            financing_bps: Bps::ZERO,
            short_borrow_bps: Bps::ZERO,
        }
    }

    /// True for a margin account.
    #[must_use]
    pub const fn is_margin(&self) -> bool {
        matches!(self.kind, AccountKind::Margin)
    }
}
