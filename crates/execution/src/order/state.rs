//! [`OrderState`]: the order lifecycle as one pure transition function.

use std::fmt;

use tradepulse_model::{Quantity, RejectReason};

/// Where an order is in its life. Each state holds only what is valid in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Sent, not yet acknowledged.
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
    /// Completely filled. Terminal.
    Filled,
    /// Cancelled with `filled` executed before. Terminal (but see the fill-after-cancel race).
    Canceled {
        /// Filled before the cancel.
        filled: Quantity,
    },
    /// Expired (DAY order, end of run) with `filled` executed before. Terminal.
    Expired {
        /// Filled before expiry.
        filled: Quantity,
    },
    /// Refused. Terminal.
    Rejected(RejectReason),
}

/// Something that happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTransition {
    /// The venue accepted it.
    Accept,
    /// The venue or risk refused it.
    Reject(RejectReason),
    /// The stop trigger was reached.
    Trigger,
    /// `quantity` was executed.
    Fill(Quantity),
    /// Cancelled (on request, or the rest of an IOC/FOK).
    Cancel,
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
    /// True once nothing more can happen to the order (fill-after-cancel aside).
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Canceled { .. } | Self::Expired { .. } | Self::Rejected(_)
        )
    }

    /// True while the order can still fill.
    #[must_use]
    pub const fn is_working(&self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::Triggered | Self::PartiallyFilled { .. }
        )
    }

    /// Quantity filled so far (`ordered` once filled).
    #[must_use]
    pub const fn filled(&self, ordered: Quantity) -> Quantity {
        match *self {
            Self::PartiallyFilled { filled }
            | Self::Canceled { filled }
            | Self::Expired { filled } => filled,
            Self::Filled => ordered,
            _ => Quantity::ZERO,
        }
    }

    /// The state after `event`, for an order of `ordered` quantity.
    ///
    /// # Errors
    /// [`InvalidTransition`] naming the state and the event when the pair is not allowed, including
    /// a fill that would exceed `ordered` or a non-positive fill.
    pub fn apply(
        &self,
        event: OrderTransition,
        ordered: Quantity,
    ) -> Result<Self, InvalidTransition> {
        let invalid = InvalidTransition { from: *self, event };
        let after_fill = |filled: Quantity, q: Quantity| -> Result<Self, InvalidTransition> {
            let total = filled.checked_add(q).ok_or(invalid)?;
            if !q.is_positive() || total > ordered {
                return Err(invalid);
            }
            Ok(if total == ordered {
                Self::Filled
            } else {
                Self::PartiallyFilled { filled: total }
            })
        };
        use OrderTransition as E;
        match (*self, event) {
            (Self::Submitted, E::Accept) => Ok(Self::Accepted),
            (Self::Submitted, E::Reject(r)) => Ok(Self::Rejected(r)),
            (Self::Accepted, E::Trigger) => Ok(Self::Triggered),
            (Self::Accepted | Self::Triggered, E::Fill(q)) => after_fill(Quantity::ZERO, q),
            (Self::PartiallyFilled { filled }, E::Fill(q)) => after_fill(filled, q),
            (Self::Accepted | Self::Triggered, E::Cancel) => Ok(Self::Canceled {
                filled: Quantity::ZERO,
            }),
            (Self::PartiallyFilled { filled }, E::Cancel) => Ok(Self::Canceled { filled }),
            (Self::Accepted | Self::Triggered, E::Expire) => Ok(Self::Expired {
                filled: Quantity::ZERO,
            }),
            (Self::PartiallyFilled { filled }, E::Expire) => Ok(Self::Expired { filled }),
            // Real venues can report a fill that crossed our cancel on the wire: the fill
            // happened, so it must be booked. The order stays cancelled unless it completed.
            (Self::Canceled { filled }, E::Fill(q)) => match after_fill(filled, q)? {
                Self::Filled => Ok(Self::Filled),
                Self::PartiallyFilled { filled } => Ok(Self::Canceled { filled }),
                _ => Err(invalid),
            },
            _ => Err(invalid),
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Triggered => "triggered",
            Self::PartiallyFilled { .. } => "partially_filled",
            Self::Filled => "filled",
            Self::Canceled { .. } => "canceled",
            Self::Expired { .. } => "expired",
            Self::Rejected(_) => "rejected",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERED: Quantity = Quantity::from_units(10);

    fn q(units: i32) -> Quantity {
        Quantity::from_units(units)
    }

    fn states() -> Vec<OrderState> {
        vec![
            OrderState::Submitted,
            OrderState::Accepted,
            OrderState::Triggered,
            OrderState::PartiallyFilled { filled: q(4) },
            OrderState::Filled,
            OrderState::Canceled { filled: q(4) },
            OrderState::Expired { filled: q(0) },
            OrderState::Rejected(RejectReason::InvalidPrice),
        ]
    }

    fn events() -> Vec<OrderTransition> {
        vec![
            OrderTransition::Accept,
            OrderTransition::Reject(RejectReason::RiskLimit),
            OrderTransition::Trigger,
            OrderTransition::Fill(q(6)),
            OrderTransition::Cancel,
            OrderTransition::Expire,
        ]
    }

    /// The whole (state, event) table: what each pair leads to, `None` = refused.
    #[test]
    fn transition_table() {
        use OrderState as S;
        let expected: Vec<Vec<Option<OrderState>>> = vec![
            // Accept, Reject, Trigger, Fill(6), Cancel, Expire
            vec![
                Some(S::Accepted),
                Some(S::Rejected(RejectReason::RiskLimit)),
                None,
                None,
                None,
                None,
            ],
            vec![
                None,
                None,
                Some(S::Triggered),
                Some(S::PartiallyFilled { filled: q(6) }),
                Some(S::Canceled { filled: q(0) }),
                Some(S::Expired { filled: q(0) }),
            ],
            vec![
                None,
                None,
                None,
                Some(S::PartiallyFilled { filled: q(6) }),
                Some(S::Canceled { filled: q(0) }),
                Some(S::Expired { filled: q(0) }),
            ],
            vec![
                None,
                None,
                None,
                Some(S::Filled),
                Some(S::Canceled { filled: q(4) }),
                Some(S::Expired { filled: q(4) }),
            ],
            vec![None, None, None, None, None, None],
            vec![None, None, None, Some(S::Filled), None, None],
            vec![None, None, None, None, None, None],
            vec![None, None, None, None, None, None],
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
        assert_eq!(
            OrderState::Accepted.apply(OrderTransition::Fill(q(10)), ORDERED),
            Ok(OrderState::Filled)
        );
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = OrderTransition> {
        prop_oneof![
            Just(OrderTransition::Accept),
            Just(OrderTransition::Reject(RejectReason::RiskLimit)),
            Just(OrderTransition::Trigger),
            (1i32..8).prop_map(|u| OrderTransition::Fill(Quantity::from_units(u))),
            Just(OrderTransition::Cancel),
            Just(OrderTransition::Expire),
        ]
    }

    proptest! {
        /// Whatever arrives, an order never fills beyond its quantity, and a terminal order only
        /// ever moves again through the documented fill-after-cancel race.
        #[test]
        fn prop_never_overfills_or_revives(events in proptest::collection::vec(event(), 0..40)) {
            let ordered = Quantity::from_units(10);
            let mut state = OrderState::Submitted;
            for e in events {
                if let Ok(next) = state.apply(e, ordered) {
                    if state.is_terminal() {
                        let was_canceled = matches!(state, OrderState::Canceled { .. });
                        prop_assert!(was_canceled);
                        prop_assert!(matches!(e, OrderTransition::Fill(_)));
                        prop_assert!(next.is_terminal());
                    }
                    state = next;
                }
                prop_assert!(state.filled(ordered) <= ordered);
            }
        }
    }
}
