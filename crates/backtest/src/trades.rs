//! [`RoundTrip`]: a position from flat (or a flip) back to flat, built from fills.

use tradepulse_model::{Fill, Money, Quantity, Side, UnixNanos};

/// One closed round trip: entered from flat, exited back to flat (a flip closes one round trip
/// and opens the next).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    /// The instrument.
    pub instrument: tradepulse_model::InstrumentId,
    /// First entry fill.
    pub entry_ts: UnixNanos,
    /// Last exit fill.
    pub exit_ts: UnixNanos,
    /// `Buy` for a long round trip, `Sell` for a short one.
    pub direction: Side,
    /// Total quantity entered.
    pub quantity: Quantity,
    /// Σ price × quantity of the entry fills.
    pub entry_notional: Money,
    /// Σ price × quantity of the exit fills.
    pub exit_notional: Money,
    /// Realised PnL before fees.
    pub gross_pnl: Money,
    /// Fees of every fill in the round trip.
    pub fees: Money,
    /// Bars from the entry bar to the exit bar.
    pub bars_held: usize,
}

impl RoundTrip {
    /// `gross_pnl − fees`.
    #[must_use]
    pub fn net_pnl(&self) -> Money {
        Money::from_raw(self.gross_pnl.raw() - self.fees.raw())
    }

    /// Volume-weighted entry price.
    #[must_use]
    pub fn entry_price(&self) -> f64 {
        self.entry_notional.as_f64() / self.quantity.as_f64()
    }

    /// Volume-weighted exit price.
    #[must_use]
    pub fn exit_price(&self) -> f64 {
        self.exit_notional.as_f64() / self.quantity.as_f64()
    }

    /// Net PnL as a fraction of the entry notional.
    #[must_use]
    pub fn return_fraction(&self) -> f64 {
        self.net_pnl().as_f64() / self.entry_notional.as_f64()
    }
}

#[derive(Debug, Clone)]
struct OpenTrip {
    trip: RoundTrip,
    entry_bar: usize,
}

/// Builds round trips from the stream of fills.
#[derive(Debug, Default)]
pub(crate) struct RoundTripBook {
    open: Option<OpenTrip>,
    closed: Vec<RoundTrip>,
}

impl RoundTripBook {
    /// Records a fill given the position quantity before it and the PnL it realised.
    pub(crate) fn record(
        &mut self,
        instrument: &tradepulse_model::InstrumentId,
        fill: &Fill,
        before: Quantity,
        realized: Money,
        bar_index: usize,
    ) {
        let signed = if fill.side == Side::Buy {
            fill.quantity.raw()
        } else {
            -fill.quantity.raw()
        };
        let q0 = before.raw();
        let q1 = q0 + signed;
        let price = fill.price;
        let opens_from_flat = q0 == 0;
        let adds = q0 != 0 && (q0 > 0) == (signed > 0);
        if opens_from_flat || adds {
            let trip = self.open.get_or_insert_with(|| OpenTrip {
                trip: RoundTrip {
                    instrument: instrument.clone(),
                    entry_ts: fill.ts,
                    exit_ts: fill.ts,
                    direction: fill.side,
                    quantity: Quantity::ZERO,
                    entry_notional: Money::ZERO,
                    exit_notional: Money::ZERO,
                    gross_pnl: Money::ZERO,
                    fees: Money::ZERO,
                    bars_held: 0,
                },
                entry_bar: bar_index,
            });
            let t = &mut trip.trip;
            t.quantity = Quantity::from_raw(t.quantity.raw() + fill.quantity.raw());
            t.entry_notional = Money::from_raw(t.entry_notional.raw() + fill.notional().raw());
            t.fees = Money::from_raw(t.fees.raw() + fill.fee.raw());
            return;
        }
        // Reducing, closing or flipping.
        let closing = q0.unsigned_abs().min(signed.unsigned_abs()) as i64;
        let opening = signed.unsigned_abs() as i64 - closing;
        // Split the fee by quantity; the closing part takes the rounding remainder.
        let total = fill.quantity.raw();
        let open_fee = if opening == 0 {
            0
        } else {
            fill.fee.raw() * i128::from(opening) / i128::from(total)
        };
        let close_fee = fill.fee.raw() - open_fee;
        if let Some(open) = self.open.as_mut() {
            let t = &mut open.trip;
            t.exit_notional = Money::from_raw(
                t.exit_notional.raw() + price.notional(Quantity::from_raw(closing)).raw(),
            );
            t.gross_pnl = Money::from_raw(t.gross_pnl.raw() + realized.raw());
            t.fees = Money::from_raw(t.fees.raw() + close_fee);
            t.exit_ts = fill.ts;
            t.bars_held = bar_index - open.entry_bar;
        }
        if (q1 == 0 || (q1 > 0) != (q0 > 0))
            && let Some(open) = self.open.take()
        {
            self.closed.push(open.trip);
        }
        if opening > 0 {
            let q = Quantity::from_raw(opening);
            self.open = Some(OpenTrip {
                trip: RoundTrip {
                    instrument: instrument.clone(),
                    entry_ts: fill.ts,
                    exit_ts: fill.ts,
                    direction: fill.side,
                    quantity: q,
                    entry_notional: price.notional(q),
                    exit_notional: Money::ZERO,
                    gross_pnl: Money::ZERO,
                    fees: Money::from_raw(open_fee),
                    bars_held: 0,
                },
                entry_bar: bar_index,
            });
        }
    }

    /// Closed round trips, oldest first. An open one at the end of the data is not included.
    pub(crate) fn into_closed(self) -> Vec<RoundTrip> {
        self.closed
    }
}
