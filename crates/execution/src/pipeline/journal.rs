//! [`Journal`]: where the pipeline writes what it does before the venue hears of it.

use tradepulse_model::{
    Asset, ClientOrderId, Money, OrderRequest, Price, RejectReason, UnixNanos, VenueOrderId,
};

use crate::venue::ExecutionReport;

/// One record of the order journal.
#[derive(Debug, Clone, Copy)]
pub enum JournalEntry<'a> {
    /// An order passed the risk checks and is about to be sent (write-ahead: it is durable
    /// before the venue is called).
    Submitted {
        /// The sending strategy's name.
        strategy: &'a str,
        /// The order.
        request: &'a OrderRequest,
        /// When.
        ts: UnixNanos,
    },
    /// An intent was refused before it reached the venue.
    Refused {
        /// The sending strategy's name.
        strategy: &'a str,
        /// The order.
        request: &'a OrderRequest,
        /// Why.
        reason: RejectReason,
        /// When.
        ts: UnixNanos,
    },
    /// A cancel was requested.
    CancelRequested {
        /// The order.
        client_order_id: ClientOrderId,
        /// When.
        ts: UnixNanos,
    },
    /// A report from the venue, as received (before it is applied).
    Report(&'a ExecutionReport),
    /// Reconciliation found an order at the venue that was not ours and recorded it.
    Adopted {
        /// The slot it was given.
        strategy: &'a str,
        /// The order as the venue has it.
        request: &'a OrderRequest,
        /// The venue's id.
        venue_order_id: VenueOrderId,
        /// When.
        ts: UnixNanos,
    },
    /// An external change of a balance was booked (a deposit, a withdrawal, an opening
    /// balance found by reconciliation).
    BalanceAdjusted {
        /// The asset.
        asset: Asset,
        /// Signed change.
        amount: Money,
        /// Cost per unit of an instrument's base asset.
        price: Price,
        /// When.
        ts: UnixNanos,
    },
}

/// The journal could not make its records durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order journal unavailable: {reason}")]
pub struct JournalError {
    /// What failed (the store's message, never a secret).
    pub reason: String,
}

/// Durable record of the pipeline's decisions: every order is recorded before it is sent, so a
/// restart knows every client order id that may exist at the venue and never sends one twice.
///
/// The pipeline calls [`Journal::record`] for each entry and [`Journal::flush`] once before it
/// calls the venue with the orders recorded since the last flush (group commit: a batch of
/// intents costs one durable write). If the flush fails, none of those orders is sent: each is
/// refused with `STORE_UNAVAILABLE`.
pub trait Journal: Send {
    /// Adds an entry to the current batch.
    ///
    /// # Errors
    /// [`JournalError`] if the entry cannot be taken (the batch is refused at the next flush).
    fn record(&mut self, entry: &JournalEntry<'_>) -> Result<(), JournalError>;

    /// Makes every entry recorded so far durable.
    ///
    /// # Errors
    /// [`JournalError`] if they could not be made durable.
    fn flush(&mut self) -> Result<(), JournalError>;
}

/// No journal: for backtests, which are replayed from their config and data and so have nothing
/// to recover after a crash.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJournal;

impl Journal for NoJournal {
    fn record(&mut self, _entry: &JournalEntry<'_>) -> Result<(), JournalError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), JournalError> {
        Ok(())
    }
}
