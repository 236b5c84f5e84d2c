//! [`OrderState`]: the order lifecycle as one pure transition function.
//!
//! ```text
//!              ┌──────── Reject ────────► Rejected
//!  Submitted ──┼── Accept ─► Accepted ──Trigger──► Triggered
//!   (sent,     │                │  └── Fill ──► PartiallyFilled ── Fill ──► Filled
//!    no ack)   └── Fill ──────────────────────────────┘
//!  any working state ── RequestCancel ─► PendingCancel ── Cancel ─► Canceled
//!                                              └── CancelReject ─► (back where it was)
//!  working states ── Cancel / Expire ─► Canceled / Expired ── Fill (late) ─► same, or Filled
//! ```
//!
//! Real venues race: a fill can cross our cancel on the wire, an expiry can be reported before
//! the last fill, an execution can be reported before the acknowledgement. Those orders are
//! allowed on purpose (each has a comment in [`OrderState::apply`]); everything else that is
//! not in the table is an [`InvalidTransition`] naming the state and the event.

use std::fmt;

use tradepulse_model::{Quantity, RejectReason};

/// Where an order is in its life. Each state holds only what is valid in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Recorded and sent (or about to be), not yet acknowledged by the venue.
    Submitted,
    /// Working at the venue, nothing filled.
    Accepted,
    /// A stop's trigger was reached; working as a market or limit order, nothing filled.
    Triggered,
    /// Some but not all of the quantity is filled.
    PartiallyFilled {
        /// Filled so far (0 < filled < ordered).
        filled: Quantity,
    },
    /// A cancel was requested and not answered yet; the order may still fill.
    PendingCancel {
        /// Filled so far.
        filled: Quantity,
        /// Whether a stop had triggered (where a refused cancel returns to).
        triggered: bool,
        /// Whether the venue had acknowledged the order when the cancel was requested.
        acknowledged: bool,
    },
    /// Completely filled. Terminal.
    Filled,
    /// Cancelled with `filled` executed before. Terminal, except for late fills.
    Canceled {
        /// Filled before the cancel.
        filled: Quantity,
    },
    /// Expired (DAY order, end of run, an IOC's rest) with `filled` executed before. Terminal,
    /// except for late fills.
    Expired {
        /// Filled before expiry.
        filled: Quantity,
    },
    /// Refused. Terminal.
    Rejected(RejectReason),
}

/// Something that happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderTransition {
    /// The venue accepted it.
    Accept,
    /// The venue or risk refused it.
    Reject(RejectReason),
    /// The stop trigger was reached.
    Trigger,
    /// `quantity` was executed.
    Fill(Quantity),
    /// We asked the venue to cancel it.
    RequestCancel,
    /// Cancelled (on request, by the venue, or the rest of an IOC/FOK).
    Cancel,
    /// The venue refused our cancel request.
    CancelReject(RejectReason),
    /// Expired.
    Expire,
}

/// A transition that the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid order transition: {event:?} in state {from:?}")]
pub struct InvalidTransition {
    /// The state the order was in.
    pub from: OrderState,
    /// The event that does not apply to it.
    pub event: OrderTransition,
}

impl OrderState {
    /// True once nothing more can happen to the order but a late fill.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Canceled { .. } | Self::Expired { .. } | Self::Rejected(_)
        )
    }

    /// True while the order can still fill (including sent-but-unacknowledged orders and
    /// orders with a cancel in flight).
    #[must_use]
    pub const fn is_open(&self) -> bool {
        !self.is_terminal()
    }

    /// True while the venue has the order working and acknowledged.
    #[must_use]
    pub const fn is_working(&self) -> bool {
        matches!(
            self,
            Self::Accepted
                | Self::Triggered
                | Self::PartiallyFilled { .. }
                | Self::PendingCancel {
                    acknowledged: true,
                    ..
                }
        )
    }

    /// Quantity filled so far (`ordered` once filled).
    #[must_use]
    pub const fn filled(&self, ordered: Quantity) -> Quantity {
        match *self {
            Self::PartiallyFilled { filled }
            | Self::PendingCancel { filled, .. }
            | Self::Canceled { filled }
            | Self::Expired { filled } => filled,
            Self::Filled => ordered,
            _ => Quantity::ZERO,
        }
    }

    /// The state after `event`, for an order of `ordered` quantity.
    ///
    /// # Errors
    /// [`InvalidTransition`] naming the state and the event when the pair is not allowed,
    /// including a fill that would exceed `ordered` or a non-positive fill.
    pub fn apply(
        &self,
        event: OrderTransition,
        ordered: Quantity,
    ) -> Result<Self, InvalidTransition> {
        let invalid = InvalidTransition { from: *self, event };
        let add_fill = |filled: Quantity, q: Quantity| -> Result<Quantity, InvalidTransition> {
            let total = filled.checked_add(q).ok_or(invalid)?;
            if !q.is_positive() || total > ordered {
                return Err(invalid);
            }
            Ok(total)
        };
        let working = |filled: Quantity, triggered: bool| {
            if filled.is_positive() {
                Self::PartiallyFilled { filled }
            } else if triggered {
                Self::Triggered
            } else {
                Self::Accepted
            }
        };
        use OrderTransition as E;
        match (*self, event) {
            (Self::Submitted, E::Accept) => Ok(Self::Accepted),
            (Self::Submitted, E::Reject(r)) => Ok(Self::Rejected(r)),
            (Self::Accepted, E::Trigger) => Ok(Self::Triggered),
            // A venue may report an execution before (or instead of) the acknowledgement, as
            // Binance does for a market order filled on arrival.
            (Self::Submitted | Self::Accepted | Self::Triggered, E::Fill(q)) => {
                let total = add_fill(Quantity::ZERO, q)?;
                Ok(if total == ordered {
                    Self::Filled
                } else {
                    Self::PartiallyFilled { filled: total }
                })
            }
            (Self::PartiallyFilled { filled }, E::Fill(q)) => {
                let total = add_fill(filled, q)?;
                Ok(if total == ordered {
                    Self::Filled
                } else {
                    Self::PartiallyFilled { filled: total }
                })
            }
            (Self::Submitted, E::RequestCancel) => Ok(Self::PendingCancel {
                filled: Quantity::ZERO,
                triggered: false,
                acknowledged: false,
            }),
            (Self::Accepted, E::RequestCancel) => Ok(Self::PendingCancel {
                filled: Quantity::ZERO,
                triggered: false,
                acknowledged: true,
            }),
            (Self::Triggered, E::RequestCancel) => Ok(Self::PendingCancel {
                filled: Quantity::ZERO,
                triggered: true,
                acknowledged: true,
            }),
            (Self::PartiallyFilled { filled }, E::RequestCancel) => Ok(Self::PendingCancel {
                filled,
                triggered: true,
                acknowledged: true,
            }),
            // While a cancel is in flight the order keeps living at the venue.
            (
                Self::PendingCancel {
                    filled, triggered, ..
                },
                E::Accept,
            ) => Ok(Self::PendingCancel {
                filled,
                triggered,
                acknowledged: true,
            }),
            (
                Self::PendingCancel {
                    filled,
                    acknowledged,
                    ..
                },
                E::Trigger,
            ) => Ok(Self::PendingCancel {
                filled,
                triggered: true,
                acknowledged,
            }),
            (
                Self::PendingCancel {
                    filled, triggered, ..
                },
                E::Fill(q),
            ) => {
                let total = add_fill(filled, q)?;
                Ok(if total == ordered {
                    Self::Filled
                } else {
                    Self::PendingCancel {
                        filled: total,
                        triggered,
                        acknowledged: true,
                    }
                })
            }
            (Self::PendingCancel { filled, .. }, E::Cancel) => Ok(Self::Canceled { filled }),
            (Self::PendingCancel { filled, .. }, E::Expire) => Ok(Self::Expired { filled }),
            (
                Self::PendingCancel {
                    acknowledged: false,
                    ..
                },
                E::Reject(r),
            ) => Ok(Self::Rejected(r)),
            (
                Self::PendingCancel {
                    filled,
                    triggered,
                    acknowledged,
                },
                E::CancelReject(_),
            ) => Ok(if acknowledged {
                working(filled, triggered)
            } else {
                Self::Submitted
            }),
            (Self::Submitted | Self::Accepted | Self::Triggered, E::Cancel) => Ok(Self::Canceled {
                filled: Quantity::ZERO,
            }),
            (Self::PartiallyFilled { filled }, E::Cancel) => Ok(Self::Canceled { filled }),
            (Self::Submitted | Self::Accepted | Self::Triggered, E::Expire) => Ok(Self::Expired {
                filled: Quantity::ZERO,
            }),
            (Self::PartiallyFilled { filled }, E::Expire) => Ok(Self::Expired { filled }),
            // A cancel refused because the order had just ended (filled, expired): the refusal
            // crossed the order's last report on the wire. Nothing changes.
            (Self::Filled | Self::Canceled { .. } | Self::Expired { .. }, E::CancelReject(_)) => {
                Ok(*self)
            }
            // Real venues can report a fill that crossed our cancel (or the expiry) on the
            // wire: the fill happened, so it must be booked. The order stays ended unless the
            // fill completed it.
            (Self::Canceled { filled }, E::Fill(q)) => {
                let total = add_fill(filled, q)?;
                Ok(if total == ordered {
                    Self::Filled
                } else {
                    Self::Canceled { filled: total }
                })
            }
            (Self::Expired { filled }, E::Fill(q)) => {
                let total = add_fill(filled, q)?;
                Ok(if total == ordered {
                    Self::Filled
                } else {
                    Self::Expired { filled: total }
                })
            }
            _ => Err(invalid),
        }
    }

    /// Lower-case name, as stored and shown by the API.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Triggered => "triggered",
            Self::PartiallyFilled { .. } => "partially_filled",
            Self::PendingCancel { .. } => "pending_cancel",
            Self::Filled => "filled",
            Self::Canceled { .. } => "canceled",
            Self::Expired { .. } => "expired",
            Self::Rejected(_) => "rejected",
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERED: Quantity = Quantity::from_units(10);

    fn q(units: i32) -> Quantity {
        Quantity::from_units(units)
    }

    fn pending(filled: i32, triggered: bool, acknowledged: bool) -> OrderState {
        OrderState::PendingCancel {
            filled: q(filled),
            triggered,
            acknowledged,
        }
    }

    fn states() -> Vec<OrderState> {
        vec![
            OrderState::Submitted,
            OrderState::Accepted,
            OrderState::Triggered,
            OrderState::PartiallyFilled { filled: q(4) },
            pending(4, true, true),
            pending(0, false, false),
            OrderState::Filled,
            OrderState::Canceled { filled: q(4) },
            OrderState::Expired { filled: q(0) },
            OrderState::Rejected(RejectReason::InvalidPrice),
        ]
    }

    fn events() -> Vec<OrderTransition> {
        vec![
            OrderTransition::Accept,
            OrderTransition::Reject(RejectReason::MaxPosition),
            OrderTransition::Trigger,
            OrderTransition::Fill(q(6)),
            OrderTransition::RequestCancel,
            OrderTransition::Cancel,
            OrderTransition::CancelReject(RejectReason::UnknownOrder),
            OrderTransition::Expire,
        ]
    }

    /// The whole (state, event) table: what each pair leads to, `None` = refused.
    #[test]
    fn transition_table() {
        use OrderState as S;
        let rejected = Some(S::Rejected(RejectReason::MaxPosition));
        let canceled = |f| Some(S::Canceled { filled: q(f) });
        let expired = |f| Some(S::Expired { filled: q(f) });
        let partial = |f| Some(S::PartiallyFilled { filled: q(f) });
        #[rustfmt::skip]
        let expected: Vec<Vec<Option<OrderState>>> = vec![
            // Accept, Reject, Trigger, Fill(6), RequestCancel, Cancel, CancelReject, Expire
            // Submitted
            vec![Some(S::Accepted), rejected, None, partial(6), Some(pending(0, false, false)), canceled(0), None, expired(0)],
            // Accepted
            vec![None, None, Some(S::Triggered), partial(6), Some(pending(0, false, true)), canceled(0), None, expired(0)],
            // Triggered
            vec![None, None, None, partial(6), Some(pending(0, true, true)), canceled(0), None, expired(0)],
            // PartiallyFilled(4)
            vec![None, None, None, Some(S::Filled), Some(pending(4, true, true)), canceled(4), None, expired(4)],
            // PendingCancel(4, triggered, acknowledged)
            vec![Some(pending(4, true, true)), None, Some(pending(4, true, true)), Some(S::Filled), None, canceled(4), partial(4), expired(4)],
            // PendingCancel(0, not triggered, not acknowledged)
            vec![Some(pending(0, false, true)), rejected, Some(pending(0, true, false)), Some(pending(6, false, true)), None, canceled(0), Some(S::Submitted), expired(0)],
            // Filled
            vec![None, None, None, None, None, None, Some(S::Filled), None],
            // Canceled(4)
            vec![None, None, None, Some(S::Filled), None, None, canceled(4), None],
            // Expired(0)
            vec![None, None, None, expired(6), None, None, expired(0), None],
            // Rejected
            vec![None, None, None, None, None, None, None, None],
        ];
        for (state, row) in states().into_iter().zip(expected) {
            for (event, want) in events().into_iter().zip(row) {
                let got = state.apply(event, ORDERED).ok();
                assert_eq!(got, want, "{state:?} + {event:?}");
                if want.is_none() {
                    let err = state.apply(event, ORDERED).unwrap_err();
                    assert_eq!((err.from, err.event), (state, event));
                }
            }
        }
    }

    #[test]
    fn overfill_and_zero_fill_are_refused() {
        let s = OrderState::PartiallyFilled { filled: q(8) };
        assert!(s.apply(OrderTransition::Fill(q(3)), ORDERED).is_err());
        assert!(
            OrderState::Accepted
                .apply(OrderTransition::Fill(q(0)), ORDERED)
                .is_err()
        );
        assert!(
            OrderState::Canceled { filled: q(8) }
                .apply(OrderTransition::Fill(q(3)), ORDERED)
                .is_err()
        );
        assert_eq!(
            OrderState::Accepted.apply(OrderTransition::Fill(q(10)), ORDERED),
            Ok(OrderState::Filled)
        );
    }

    #[test]
    fn refused_cancel_returns_to_where_the_order_was() {
        let reject = OrderTransition::CancelReject(RejectReason::UnknownOrder);
        let cancel = OrderTransition::RequestCancel;
        for state in [
            OrderState::Submitted,
            OrderState::Accepted,
            OrderState::Triggered,
            OrderState::PartiallyFilled { filled: q(3) },
        ] {
            let back = state
                .apply(cancel, ORDERED)
                .unwrap()
                .apply(reject, ORDERED)
                .unwrap();
            assert_eq!(back, state);
        }
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = OrderTransition> {
        prop_oneof![
            Just(OrderTransition::Accept),
            Just(OrderTransition::Reject(RejectReason::MaxPosition)),
            Just(OrderTransition::Trigger),
            (1i32..8).prop_map(|u| OrderTransition::Fill(Quantity::from_units(u))),
            Just(OrderTransition::RequestCancel),
            Just(OrderTransition::Cancel),
            Just(OrderTransition::CancelReject(RejectReason::UnknownOrder)),
            Just(OrderTransition::Expire),
        ]
    }

    proptest! {
        /// Whatever arrives, an order never fills beyond its quantity, its filled quantity never
        /// decreases, and a terminal order only ever moves again through a late fill (or stays
        /// put on a refused cancel); a rejected order never changes.
        #[test]
        fn prop_never_overfills_or_revives(events in proptest::collection::vec(event(), 0..40)) {
            let ordered = Quantity::from_units(10);
            let mut state = OrderState::Submitted;
            for e in events {
                let before = state.filled(ordered);
                if let Ok(next) = state.apply(e, ordered) {
                    if state.is_terminal() {
                        prop_assert!(!matches!(state, OrderState::Rejected(_)));
                        prop_assert!(matches!(
                            e,
                            OrderTransition::Fill(_) | OrderTransition::CancelReject(_)
                        ));
                        prop_assert!(next.is_terminal());
                    }
                    state = next;
                }
                prop_assert!(state.filled(ordered) <= ordered);
                prop_assert!(state.filled(ordered) >= before);
            }
        }
    }
}
