#![allow(
    clippy::unwrap_used,
    reason = "a test should fail loudly on a broken fixture"
)]

use tradepulse_model::{
    Asset, ClientOrderId, Fill, Instrument, Liquidity, Money, OrderKind, OrderRequest, Price,
    Quantity, RejectReason, Side, TimeInForce, TradeId, UnixNanos, VenueOrderId,
};
use tradepulse_portfolio::{AccountConfig, InstrumentKey, Portfolio};

use crate::{
    Book, Breach, Intent, KillScope, Pending, ProposedFill, RateLimit, RiskConfig, RiskEngine,
    Shortfall, TradingState, Working,
};

fn px(s: &str) -> Price {
    s.parse().unwrap()
}

fn q(units: i32) -> Quantity {
    Quantity::from_units(units)
}

fn usd() -> Asset {
    Asset::new("USD").unwrap()
}

struct Fixture {
    strategy: crate::StrategyId,
    portfolio: Portfolio,
    risk: RiskEngine,
    key: InstrumentKey,
    working: Vec<Working>,
    reference: Option<Price>,
    open_orders: usize,
}

fn fixture(config: RiskConfig, account: AccountConfig) -> Fixture {
    let instrument = Instrument::new(
        "SPX.SIM".parse().unwrap(),
        "USD",
        px("0.01"),
        q(1),
        "10".parse().unwrap(),
    )
    .unwrap();
    let mut portfolio = Portfolio::new(usd(), "10000".parse().unwrap(), account);
    let key = portfolio.add_instrument(instrument.clone()).unwrap();
    portfolio.set_mark(key, px("100"));
    let mut risk = RiskEngine::new(config).unwrap();
    risk.register_instrument(key, &instrument);
    let strategy = risk.register_strategy("s");
    Fixture {
        strategy,
        portfolio,
        risk,
        key,
        working: vec![Working::default()],
        reference: Some(px("100")),
        open_orders: 0,
    }
}

fn order(side: Side, units: i32, kind: OrderKind) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new("s-1").unwrap(),
        instrument: "SPX.SIM".parse().unwrap(),
        side,
        quantity: q(units),
        kind,
        time_in_force: TimeInForce::Gtc,
    }
}

impl Fixture {
    fn check_at(&mut self, request: &OrderRequest, now: i64) -> Result<Quantity, crate::Rejection> {
        let book = Book {
            portfolio: &self.portfolio,
            working: &self.working,
            open_orders: self.open_orders,
            reference: self.reference,
        };
        let strategy = self.strategy;
        self.risk.check(
            &Intent {
                strategy,
                key: self.key,
                request,
                now: UnixNanos::new(now),
            },
            &book,
        )
    }

    fn check(&mut self, request: &OrderRequest) -> Result<Quantity, RejectReason> {
        self.check_at(request, 0).map_err(|r| r.reason)
    }

    fn buy(&mut self, units: i32, price: &str) {
        self.portfolio
            .apply_fill(
                self.key,
                &Fill {
                    client_order_id: ClientOrderId::new("f").unwrap(),
                    venue_order_id: VenueOrderId::new("v").unwrap(),
                    trade_id: TradeId::new("t").unwrap(),
                    ts: UnixNanos::new(0),
                    side: Side::Buy,
                    quantity: q(units),
                    price: px(price),
                    fee: Money::ZERO,
                    fee_asset: usd(),
                    liquidity: Liquidity::Taker,
                },
            )
            .unwrap();
    }
}

fn market(side: Side, units: i32) -> OrderRequest {
    order(side, units, OrderKind::Market)
}

#[test]
fn instrument_rules_apply_to_every_order() {
    let mut f = fixture(RiskConfig::default(), AccountConfig::cash());
    assert_eq!(
        f.check(&market(Side::Buy, 0)),
        Err(RejectReason::InvalidQuantity)
    );
    let mut half = market(Side::Buy, 1);
    half.quantity = "0.5".parse().unwrap();
    assert_eq!(f.check(&half), Err(RejectReason::QuantityNotMultipleOfLot));
    let off_tick = order(
        Side::Buy,
        1,
        OrderKind::Limit {
            price: px("99.995"),
        },
    );
    assert_eq!(f.check(&off_tick), Err(RejectReason::InvalidPrice));
    let trail_off_tick = order(
        Side::Buy,
        1,
        OrderKind::TrailingStop {
            offset: px("0.001"),
        },
    );
    assert_eq!(f.check(&trail_off_tick), Err(RejectReason::InvalidPrice));
    // 1 × 9.99 < the minimum notional of 10.
    let small = order(Side::Buy, 1, OrderKind::Limit { price: px("9.99") });
    assert_eq!(f.check(&small), Err(RejectReason::BelowMinNotional));
    assert_eq!(f.check(&market(Side::Buy, 1)), Ok(q(1)));
}

#[test]
fn market_orders_need_a_reference_price_never_a_placeholder() {
    let mut f = fixture(RiskConfig::default(), AccountConfig::cash());
    f.reference = None;
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::NoReferencePrice)
    );
    // A limit order carries its own price.
    let limit = order(Side::Buy, 1, OrderKind::Limit { price: px("100") });
    assert_eq!(f.check(&limit), Ok(q(1)));
    // The notional of a market order is valued at the reference: 200 units at 100 = 20,000.
    f.reference = Some(px("100"));
    let config = RiskConfig {
        max_order_notional: Some("15000".parse().unwrap()),
        ..RiskConfig::default()
    };
    let mut f = fixture(config, AccountConfig::margin("10".parse().unwrap()));
    let refused = f.check_at(&market(Side::Buy, 200), 0).unwrap_err();
    assert_eq!(refused.reason, RejectReason::MaxOrderNotional);
    assert_eq!(
        refused.breach,
        Breach::Money {
            value: "20000".parse().unwrap(),
            limit: "15000".parse().unwrap()
        }
    );
}

#[test]
fn order_size_and_position_limits_count_working_orders() {
    let mut config = RiskConfig {
        max_order_quantity: Some(q(8)),
        max_position: Some(q(10)),
        ..RiskConfig::default()
    };
    config.instruments.insert(
        "SPX.SIM".into(),
        crate::InstrumentLimits {
            max_order_quantity: Some(q(6)),
            ..Default::default()
        },
    );
    let mut f = fixture(config, AccountConfig::margin("100".parse().unwrap()));
    // The per-instrument override wins over the global 8.
    assert_eq!(
        f.check(&market(Side::Buy, 7)),
        Err(RejectReason::MaxOrderQuantity)
    );
    f.buy(5, "100");
    f.working[0].buy_quantity = q(4);
    assert_eq!(f.check(&market(Side::Buy, 1)), Ok(q(1)));
    assert_eq!(
        f.check(&market(Side::Buy, 2)),
        Err(RejectReason::MaxPosition)
    );
    // Selling reduces: allowed even past the position limit's other side? 5 − 6 = −1: fine.
    assert_eq!(f.check(&market(Side::Sell, 6)), Ok(q(6)));
}

#[test]
fn cash_accounts_cannot_short_or_overspend() {
    let mut f = fixture(RiskConfig::default(), AccountConfig::cash());
    assert_eq!(
        f.check(&market(Side::Sell, 1)),
        Err(RejectReason::ShortNotAllowed)
    );
    // 10,000 cash at 100: 100 units, not 101.
    assert_eq!(f.check(&market(Side::Buy, 100)), Ok(q(100)));
    assert_eq!(
        f.check(&market(Side::Buy, 101)),
        Err(RejectReason::InsufficientBuyingPower)
    );
    // Working buys reserve cash.
    f.working[0].buy_notional = "5000".parse().unwrap();
    assert_eq!(
        f.check(&market(Side::Buy, 51)),
        Err(RejectReason::InsufficientBuyingPower)
    );
}

#[test]
fn shortfall_can_shrink_the_order_to_whole_lots() {
    let mut config = RiskConfig::default();
    config.buying_power.on_shortfall = Shortfall::Shrink;
    config.buying_power.cost_buffer_bps = "100".parse().unwrap();
    let mut f = fixture(config, AccountConfig::cash());
    // Each unit costs 100 × 1.01 = 101: 10,000 / 101 = 99.0 → 99 units.
    assert_eq!(f.check(&market(Side::Buy, 150)), Ok(q(99)));
}

#[test]
fn margin_accounts_borrow_up_to_their_leverage() {
    let mut f = fixture(
        RiskConfig::default(),
        AccountConfig::margin("2".parse().unwrap()),
    );
    // Equity 10,000 × 2 = 20,000 of exposure: 200 units at 100.
    assert_eq!(f.check(&market(Side::Buy, 200)), Ok(q(200)));
    assert_eq!(
        f.check(&market(Side::Buy, 201)),
        Err(RejectReason::InsufficientBuyingPower)
    );
    // Shorts are allowed in a margin account, within the same capacity.
    assert_eq!(f.check(&market(Side::Sell, 200)), Ok(q(200)));
}

#[test]
fn exposure_limits() {
    let config = RiskConfig {
        max_gross_exposure: Some("5000".parse().unwrap()),
        max_net_exposure: Some("3000".parse().unwrap()),
        ..RiskConfig::default()
    };
    let mut f = fixture(config, AccountConfig::margin("10".parse().unwrap()));
    assert_eq!(
        f.check(&market(Side::Buy, 31)),
        Err(RejectReason::MaxNetExposure)
    );
    assert_eq!(f.check(&market(Side::Buy, 30)), Ok(q(30)));
    assert_eq!(
        f.check(&market(Side::Sell, 51)),
        Err(RejectReason::MaxGrossExposure)
    );
}

#[test]
fn price_band_around_the_reference() {
    let config = RiskConfig {
        price_band: Some(crate::PriceBandConfig {
            max_deviation_bps: "500".parse().unwrap(),
            reference: crate::ReferencePrice::Last,
        }),
        ..RiskConfig::default()
    };
    let mut f = fixture(config, AccountConfig::cash());
    let at = |p: &str| order(Side::Buy, 1, OrderKind::Limit { price: px(p) });
    assert_eq!(f.check(&at("105")), Ok(q(1)));
    assert_eq!(f.check(&at("95")), Ok(q(1)));
    assert_eq!(f.check(&at("105.01")), Err(RejectReason::PriceBand));
    assert_eq!(f.check(&at("94.99")), Err(RejectReason::PriceBand));
}

#[test]
fn open_orders_and_order_rate() {
    let mut config = RiskConfig {
        max_open_orders: Some(2),
        ..RiskConfig::default()
    };
    config.order_rate.per_strategy = Some(RateLimit {
        orders: 2,
        seconds: 60,
    });
    let mut f = fixture(config, AccountConfig::cash());
    f.open_orders = 2;
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::MaxOpenOrders)
    );
    f.open_orders = 0;
    let s = 1_000_000_000;
    assert!(f.check_at(&market(Side::Buy, 1), 0).is_ok());
    assert!(f.check_at(&market(Side::Buy, 1), 10 * s).is_ok());
    assert_eq!(
        f.check_at(&market(Side::Buy, 1), 59 * s)
            .unwrap_err()
            .reason,
        RejectReason::OrderRateLimit
    );
    // A refused order does not count; the first leaves the window after 60 s.
    assert!(f.check_at(&market(Side::Buy, 1), 60 * s).is_ok());
}

#[test]
fn kill_switches_halt_new_orders() {
    let mut f = fixture(RiskConfig::default(), AccountConfig::cash());
    f.risk
        .set_kill_switch(&KillScope::Instrument("SPX.SIM".parse().unwrap()), true);
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::KillSwitch)
    );
    f.risk
        .set_kill_switch(&KillScope::Instrument("SPX.SIM".parse().unwrap()), false);
    f.risk
        .set_kill_switch(&KillScope::Strategy("s".into()), true);
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::KillSwitch)
    );
    f.risk
        .set_kill_switch(&KillScope::Strategy("s".into()), false);
    assert!(f.check(&market(Side::Buy, 1)).is_ok());
    let mut config = RiskConfig::default();
    config.kill_switch.global = true;
    let mut f = fixture(config, AccountConfig::cash());
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::KillSwitch)
    );
}

#[test]
fn daily_loss_and_drawdown_allow_only_reducing_orders() {
    let config = RiskConfig {
        daily_loss_limit: Some("500".parse().unwrap()),
        ..RiskConfig::default()
    };
    let mut f = fixture(config, AccountConfig::cash());
    f.buy(10, "100");
    let day = UnixNanos::NANOS_PER_DAY;
    f.risk.on_equity(UnixNanos::new(0), 10_000.0);
    f.risk.on_equity(UnixNanos::new(1), 9_400.0);
    assert_eq!(
        f.risk.state(),
        TradingState::Reducing(RejectReason::DailyLossLimit)
    );
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::DailyLossLimit)
    );
    assert_eq!(f.check(&market(Side::Sell, 10)), Ok(q(10)));
    // A new UTC day starts afresh.
    f.risk.on_equity(UnixNanos::new(day), 9_400.0);
    assert_eq!(f.risk.state(), TradingState::Active);

    let config = RiskConfig {
        max_drawdown: Some("0.1".parse().unwrap()),
        ..RiskConfig::default()
    };
    let mut f = fixture(config, AccountConfig::cash());
    f.risk.on_equity(UnixNanos::new(0), 10_000.0);
    f.risk.on_equity(UnixNanos::new(day), 12_000.0);
    f.risk.on_equity(UnixNanos::new(2 * day), 10_801.0);
    assert_eq!(f.risk.state(), TradingState::Active);
    f.risk.on_equity(UnixNanos::new(3 * day), 10_800.0);
    assert_eq!(
        f.risk.state(),
        TradingState::Reducing(RejectReason::MaxDrawdown)
    );
    // It stays halted after a recovery, until reset.
    f.risk.on_equity(UnixNanos::new(4 * day), 13_000.0);
    assert_eq!(
        f.check(&market(Side::Buy, 1)),
        Err(RejectReason::MaxDrawdown)
    );
    f.risk.reset_drawdown();
    assert!(f.check(&market(Side::Buy, 1)).is_ok());
}

#[test]
fn fill_allowance_checks_the_real_price_and_fee() {
    let f = fixture(RiskConfig::default(), AccountConfig::cash());
    let fill = |units: i32, price: &str, fee: &str| ProposedFill {
        side: Side::Buy,
        quantity: q(units),
        price: px(price),
        fee: fee.parse().unwrap(),
    };
    // 95 units decided at 100 but filled at a gapped 105 plus a 10 fee: 9,985 ≤ 10,000.
    assert_eq!(
        f.risk.fill_allowance(
            &f.portfolio,
            f.key,
            Pending::default(),
            fill(95, "105", "10")
        ),
        q(95)
    );
    // At 106: 10,080 > 10,000 — refused outright with the default `reject`.
    assert_eq!(
        f.risk.fill_allowance(
            &f.portfolio,
            f.key,
            Pending::default(),
            fill(95, "106", "10")
        ),
        Quantity::ZERO
    );
    // With `shrink`: the largest whole number of units that fits (94 × 106 + 94/95 × 10).
    let mut config = RiskConfig::default();
    config.buying_power.on_shortfall = Shortfall::Shrink;
    let g = fixture(config, AccountConfig::cash());
    assert_eq!(
        g.risk.fill_allowance(
            &g.portfolio,
            g.key,
            Pending::default(),
            fill(95, "106", "10")
        ),
        q(94)
    );
    // Earlier fills of the same venue call count.
    let mut pending = Pending::default();
    pending.add(fill(50, "100", "0"));
    assert_eq!(
        g.risk
            .fill_allowance(&g.portfolio, g.key, pending, fill(60, "100", "0")),
        q(50)
    );
}

#[test]
fn config_is_validated_and_unknown_keys_are_errors() {
    let parse = |yaml: &str| serde_saphyr::from_str::<RiskConfig>(yaml);
    assert!(parse("max_position: 5\nmax_postion: 3\n").is_err());
    let ok = parse(
        "max_position: 5\norder_rate: {per_strategy: {orders: 10, seconds: 1}}\n\
         price_band: {max_deviation_bps: 300, reference: mid}\n\
         buying_power: {on_shortfall: shrink}\nkill_switch: {strategies: [a]}\n\
         instruments: {BTCUSDT.BINANCE: {max_position: 1}}\n",
    )
    .unwrap();
    assert!(ok.validate().is_ok());
    let bad = parse("max_drawdown: 1.5\n").unwrap();
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "risk.max_drawdown: must be in (0, 1), got 1.5"
    );
    let bad = parse("order_rate: {global: {orders: 0, seconds: 1}}\n").unwrap();
    assert!(bad.validate().is_err());
    let bad = parse("instruments: {nodot: {max_position: 1}}\n").unwrap();
    assert!(bad.validate().is_err());
}
