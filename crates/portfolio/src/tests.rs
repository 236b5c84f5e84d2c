#![allow(
    clippy::unwrap_used,
    reason = "a test should fail loudly on a broken fixture"
)]

use proptest::prelude::*;
use tradepulse_model::{
    Asset, ClientOrderId, Fill, Instrument, Liquidity, Money, Price, Quantity, Side, TradeId,
    UnixNanos, VenueOrderId,
};

use crate::{AccountConfig, Portfolio, PortfolioError};

fn usd() -> Asset {
    Asset::new("USD").unwrap()
}

fn instrument(symbol: &str) -> Instrument {
    Instrument::new(
        tradepulse_model::InstrumentId::new(symbol, "SIM").unwrap(),
        "USD",
        Price::from_raw(10_000_000),
        Quantity::from_raw(1_000_000),
        Money::ZERO,
    )
    .unwrap()
}

fn fill(side: Side, quantity: Quantity, price: Price, fee: Money, fee_asset: Asset) -> Fill {
    Fill {
        client_order_id: ClientOrderId::new("t-1").unwrap(),
        venue_order_id: VenueOrderId::new("S1").unwrap(),
        trade_id: TradeId::new("T1").unwrap(),
        ts: UnixNanos::new(0),
        side,
        quantity,
        price,
        fee,
        fee_asset,
        liquidity: Liquidity::Taker,
    }
}

#[test]
fn one_currency_per_portfolio() {
    let mut p = Portfolio::new(usd(), Money::ZERO, AccountConfig::cash());
    let eur = Instrument::new(
        "DAX.SIM".parse().unwrap(),
        "EUR",
        Price::from_raw(1),
        Quantity::from_units(1),
        Money::ZERO,
    )
    .unwrap();
    assert!(matches!(
        p.add_instrument(eur),
        Err(PortfolioError::CurrencyMismatch { .. })
    ));
    let key = p.add_instrument(instrument("A")).unwrap();
    assert_eq!(p.key_of(&"A.SIM".parse().unwrap()), Some(key));
    assert!(matches!(
        p.add_instrument(instrument("A")),
        Err(PortfolioError::Duplicate(_))
    ));
}

#[test]
fn fee_in_a_third_asset_is_its_own_balance() {
    let mut p = Portfolio::new(usd(), "1000".parse().unwrap(), AccountConfig::cash());
    let key = p.add_instrument(instrument("A")).unwrap();
    let bnb = Asset::new("BNB").unwrap();
    p.apply_fill(
        key,
        &fill(
            Side::Buy,
            Quantity::from_units(2),
            "100".parse().unwrap(),
            "0.01".parse().unwrap(),
            bnb,
        ),
    )
    .unwrap();
    assert_eq!(p.cash().to_string(), "800.00");
    assert_eq!(p.fees_paid(), Money::ZERO);
    let balances = p.balances();
    assert_eq!(balances.len(), 2);
    assert_eq!(balances[1].asset, bnb);
    assert_eq!(balances[1].amount.to_string(), "-0.01");
    assert_eq!(p.other_fees()[0].amount.to_string(), "0.01");
}

#[test]
fn borrow_and_financing_accrue_on_calendar_time() {
    let mut account = AccountConfig::margin("2".parse().unwrap());
    account.short_borrow_bps = "1000".parse().unwrap();
    account.financing_bps = "500".parse().unwrap();
    let mut p = Portfolio::new(usd(), "100".parse().unwrap(), account);
    let short = p.add_instrument(instrument("S")).unwrap();
    let long = p.add_instrument(instrument("L")).unwrap();
    let price: Price = "100".parse().unwrap();
    p.apply_fill(
        short,
        &fill(
            Side::Sell,
            Quantity::from_units(1),
            price,
            Money::ZERO,
            usd(),
        ),
    )
    .unwrap();
    p.apply_fill(
        long,
        &fill(
            Side::Buy,
            Quantity::from_units(3),
            price,
            Money::ZERO,
            usd(),
        ),
    )
    .unwrap();
    // Cash: 100 + 100 − 300 = −100 owed; short value 100.
    let day = UnixNanos::NANOS_PER_DAY;
    p.close_period(short, price, UnixNanos::new(0));
    p.close_period(long, price, UnixNanos::new(0));
    p.accrue(short, UnixNanos::new(365 * day)).unwrap();
    p.accrue(long, UnixNanos::new(365 * day)).unwrap();
    let years = 365.0 / 365.25;
    assert!((p.borrow_paid().as_f64() - 100.0 * 0.10 * years).abs() < 1e-6);
    assert!((p.financing_paid().as_f64() - 100.0 * 0.05 * years).abs() < 1e-6);
    // Nothing accrues twice: the clocks restart only at the next close.
    p.accrue(short, UnixNanos::new(400 * day)).unwrap();
    assert!((p.borrow_paid().as_f64() - 100.0 * 0.10 * years).abs() < 1e-6);
}

#[test]
fn exposure_and_equity() {
    let mut p = Portfolio::new(
        usd(),
        "1000".parse().unwrap(),
        AccountConfig::margin("2".parse().unwrap()),
    );
    let a = p.add_instrument(instrument("A")).unwrap();
    let b = p.add_instrument(instrument("B")).unwrap();
    p.apply_fill(
        a,
        &fill(
            Side::Buy,
            Quantity::from_units(2),
            "100".parse().unwrap(),
            Money::ZERO,
            usd(),
        ),
    )
    .unwrap();
    p.apply_fill(
        b,
        &fill(
            Side::Sell,
            Quantity::from_units(1),
            "50".parse().unwrap(),
            Money::ZERO,
            usd(),
        ),
    )
    .unwrap();
    p.set_mark(a, "110".parse().unwrap());
    p.set_mark(b, "40".parse().unwrap());
    assert_eq!(p.gross_exposure().to_string(), "260.00");
    assert_eq!(p.net_exposure().to_string(), "180.00");
    assert_eq!(p.equity().to_string(), "1030.00");
    assert!((p.equity_f64() - 1030.0).abs() < 1e-9);
    assert_eq!(p.others_value(a).to_string(), "-40.00");
}

fn fill_strategy() -> impl Strategy<Value = (bool, i64, i64, i64, u8)> {
    // side, quantity in thousandths, price in cents, fee in cents, fee asset (0 cash, 1 base,
    // 2 third)
    (
        any::<bool>(),
        1i64..50_000,
        1i64..1_000_000,
        0i64..1_000,
        0u8..3,
    )
}

proptest! {
    /// cash + Σ qty × mark = initial + realised + unrealised − cash fees − borrow − financing,
    /// exactly, after any fills and accruals, on a margin account with a spot instrument whose
    /// fees may be charged in its base asset.
    #[test]
    fn prop_accounting_identity(
        fills in proptest::collection::vec(fill_strategy(), 1..60),
        marks in proptest::collection::vec(1i64..1_000_000, 2),
        days in 1i64..400,
        deposits in proptest::collection::vec((0u8..3, -5_000i64..50_000, 1i64..1_000_000), 0..8),
    ) {
        let mut account = AccountConfig::margin("3".parse().unwrap());
        account.short_borrow_bps = "250".parse().unwrap();
        account.financing_bps = "600".parse().unwrap();
        let base = Asset::new("BTC").unwrap();
        let third = Asset::new("BNB").unwrap();
        let mut p = Portfolio::new(usd(), "1000000".parse().unwrap(), account);
        let spot = p.add_instrument(instrument("BTCUSD").with_base_asset(base)).unwrap();
        let other = p.add_instrument(instrument("X")).unwrap();
        for (i, (buy, qty, px, fee, asset)) in fills.into_iter().enumerate() {
            let key = if i % 3 == 0 { other } else { spot };
            let side = if buy { Side::Buy } else { Side::Sell };
            let fee_asset = match (asset, key == spot) {
                (1, true) => base,
                (2, _) => third,
                _ => usd(),
            };
            let f = fill(
                side,
                Quantity::from_raw(qty * 1_000_000),
                Price::from_raw(px * 10_000_000),
                Money::from_raw(i128::from(fee) * 1_000),
                fee_asset,
            );
            p.apply_fill(key, &f).unwrap();
            let ts = UnixNanos::new(i as i64 * days * UnixNanos::NANOS_PER_DAY);
            p.accrue(spot, ts).unwrap();
            p.accrue(other, ts).unwrap();
            p.close_period(spot, f.price, ts);
            p.close_period(other, f.price, ts);
            // External balance changes (deposits, withdrawals, opening balances) between fills.
            if let Some(&(which, amount, px)) = deposits.get(i) {
                let asset = [usd(), base, third][usize::from(which)];
                p.adjust_balance(
                    asset,
                    Money::from_raw(i128::from(amount) * 1_000_000),
                    Price::from_raw(px * 10_000_000),
                )
                .unwrap();
            }
        }
        p.set_mark(spot, Price::from_raw(marks[0] * 10_000_000));
        p.set_mark(other, Price::from_raw(marks[1] * 10_000_000));
        let unrealised: i128 = [spot, other]
            .iter()
            .map(|&k| p.position(k).unrealized_pnl(p.mark(k).unwrap()).raw())
            .sum();
        // Realised PnL as the positions keep it: a deposit into a short covers it (margin).
        let realised: i128 = [spot, other]
            .iter()
            .map(|&k| p.position(k).realized_pnl().raw())
            .sum();
        let rhs = p.initial_cash().raw() + realised + unrealised - p.fees_paid().raw()
            - p.borrow_paid().raw() - p.financing_paid().raw();
        prop_assert_eq!(p.equity().raw(), rhs);
    }
}

#[test]
fn adjusted_balances_move_cash_positions_and_other_assets_without_pnl() {
    let btc = Asset::new("BTC").unwrap();
    let bnb = Asset::new("BNB").unwrap();
    let mut p = Portfolio::new(usd(), Money::ZERO, AccountConfig::cash());
    let key = p
        .add_instrument(instrument("BTCUSD").with_base_asset(btc))
        .unwrap();
    // Opening balances of a live account: 1000 USD, 2 BTC at 50, 3 BNB.
    p.adjust_balance(usd(), "1000".parse().unwrap(), Price::ZERO)
        .unwrap();
    p.adjust_balance(btc, "2".parse().unwrap(), "50".parse().unwrap())
        .unwrap();
    p.adjust_balance(bnb, "3".parse().unwrap(), Price::ZERO)
        .unwrap();
    assert_eq!(p.cash(), "1000".parse().unwrap());
    assert_eq!(p.position(key).quantity(), "2".parse().unwrap());
    assert_eq!(p.initial_cash(), "1100".parse().unwrap());
    p.set_mark(key, "50".parse().unwrap());
    assert_eq!(p.equity(), p.initial_cash());
    assert_eq!(
        p.position(key).unrealized_pnl("50".parse().unwrap()),
        Money::ZERO
    );
    let balances: Vec<String> = p
        .balances()
        .iter()
        .map(|b| format!("{} {}", b.asset, b.amount.as_f64()))
        .collect();
    assert_eq!(balances, ["USD 1000", "BTC 2", "BNB 3"]);
    // A withdrawal of 0.5 BTC and of 100 USD.
    p.adjust_balance(btc, "-0.5".parse().unwrap(), Price::ZERO)
        .unwrap();
    p.adjust_balance(usd(), "-100".parse().unwrap(), Price::ZERO)
        .unwrap();
    assert_eq!(p.position(key).quantity(), "1.5".parse().unwrap());
    assert_eq!(p.cash(), "900".parse().unwrap());
    assert_eq!(p.fees_paid(), Money::ZERO);
}
