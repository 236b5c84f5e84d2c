//! [`KillSwitch`]: halts, consulted on every order intent.

use tradepulse_model::InstrumentId;

/// Where a kill switch applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KillScope {
    /// Every order of every strategy.
    Global,
    /// One strategy's orders (by name).
    Strategy(String),
    /// Orders for one instrument.
    Instrument(InstrumentId),
}

impl KillScope {
    /// `global`, `strategy:NAME` or `instrument:SYMBOL.VENUE`: the form stored and shown by the
    /// API.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Global => "global".to_owned(),
            Self::Strategy(name) => format!("strategy:{name}"),
            Self::Instrument(id) => format!("instrument:{id}"),
        }
    }

    /// Parses [`KillScope::key`]'s form.
    #[must_use]
    pub fn parse(key: &str) -> Option<Self> {
        if key == "global" {
            return Some(Self::Global);
        }
        if let Some(name) = key.strip_prefix("strategy:") {
            return (!name.is_empty()).then(|| Self::Strategy(name.to_owned()));
        }
        key.strip_prefix("instrument:")
            .and_then(|id| id.parse().ok())
            .map(Self::Instrument)
    }
}

/// Which kill switches are on. The pipeline consults it on every order intent: while a switch
/// covers an order, the order is refused with `KILL_SWITCH` (cancels still go through). Lists
/// are short (a few scopes), so lookups scan them: no hashing on the order path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillSwitch {
    global: bool,
    strategies: Vec<String>,
    instruments: Vec<InstrumentId>,
}

impl KillSwitch {
    /// Turns the switch for `scope` on or off; returns whether anything changed.
    pub fn set(&mut self, scope: &KillScope, on: bool) -> bool {
        match scope {
            KillScope::Global => std::mem::replace(&mut self.global, on) != on,
            KillScope::Strategy(name) => toggle(&mut self.strategies, name, on),
            KillScope::Instrument(id) => toggle(&mut self.instruments, id, on),
        }
    }

    /// True if the global switch is on.
    #[must_use]
    pub const fn is_global(&self) -> bool {
        self.global
    }

    /// True if an order of `strategy` for `instrument` is halted.
    #[must_use]
    pub fn halts(&self, strategy: &str, instrument: &InstrumentId) -> bool {
        self.global
            || (!self.strategies.is_empty() && self.strategies.iter().any(|s| s == strategy))
            || (!self.instruments.is_empty() && self.instruments.iter().any(|i| i == instrument))
    }

    /// Every switch that is on.
    #[must_use]
    pub fn active(&self) -> Vec<KillScope> {
        let mut out = Vec::new();
        if self.global {
            out.push(KillScope::Global);
        }
        out.extend(self.strategies.iter().cloned().map(KillScope::Strategy));
        out.extend(self.instruments.iter().cloned().map(KillScope::Instrument));
        out
    }
}

fn toggle<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T, on: bool) -> bool {
    let at = list.iter().position(|x| x == item);
    match (at, on) {
        (None, true) => {
            list.push(item.clone());
            true
        }
        (Some(i), false) => {
            list.remove(i);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_halt() {
        let btc: InstrumentId = "BTCUSDT.BINANCE".parse().unwrap_or_else(|_| unreachable!());
        for scope in [
            KillScope::Global,
            KillScope::Strategy("sma".into()),
            KillScope::Instrument(btc.clone()),
        ] {
            assert_eq!(KillScope::parse(&scope.key()), Some(scope));
        }
        assert_eq!(KillScope::parse("strategy:"), None);
        assert_eq!(KillScope::parse("bogus"), None);

        let mut k = KillSwitch::default();
        assert!(!k.halts("sma", &btc));
        assert!(k.set(&KillScope::Strategy("sma".into()), true));
        assert!(!k.set(&KillScope::Strategy("sma".into()), true));
        assert!(k.halts("sma", &btc));
        assert!(!k.halts("other", &btc));
        assert!(k.set(&KillScope::Instrument(btc.clone()), true));
        assert!(k.halts("other", &btc));
        assert_eq!(k.active().len(), 2);
        assert!(k.set(&KillScope::Strategy("sma".into()), false));
        assert!(k.set(&KillScope::Instrument(btc.clone()), false));
        assert!(!k.halts("sma", &btc));
        assert!(k.set(&KillScope::Global, true));
        assert!(k.halts("x", &btc));
    }
}
