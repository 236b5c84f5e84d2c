//! Effect sizes of the geometric indicators on planted regimes (exploration).

#[allow(dead_code, reason = "shared with the tests, which use all of it")]
#[path = "../tests/it/planted.rs"]
mod planted;

use planted::*;
use tradepulse_indicators::Candle;

fn main() {
    let a = planted(1, SIGMA);
    let b = planted(2, 0.002);
    let rw: Vec<Candle> = data_closes("synthetic_rw_1m.csv")
        .iter()
        .map(|&p| Candle::new(p, p, p, p, 1000.0))
        .collect();
    let za = columns(&a.bars(), false);
    let zb = columns(&b.bars(), false);
    let zrw = columns(&rw, false);
    for case in CASES {
        for regime in [Planted::Trend, Planted::MeanReversion, Planted::VolShock] {
            let va = column(&za, case.column);
            let vb = column(&zb, case.column);
            let pa = samples(va, &a.labels, regime, case.lookback, 8);
            let na = samples(va, &a.labels, Planted::Noise, case.lookback, 8);
            let pb = samples(vb, &b.labels, regime, case.lookback, 8);
            let nb = samples(vb, &b.labels, Planted::Noise, case.lookback, 8);
            if pa.is_empty() {
                continue;
            }
            let sign = if auc(&pa, &na) >= 0.5 { 1.0 } else { -1.0 };
            let mut sn: Vec<f64> = na.iter().map(|v| sign * v).collect();
            sn.sort_by(f64::total_cmp);
            let t = sn[(sn.len() * 9) / 10];
            let v: Vec<f64> = column(&zrw, case.column)
                .iter()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            println!(
                "{:<46} {:<16} sign {sign:+} A auc {:.3} d {:+.2} | B auc {:.3} d {:+.2} | t90 {t:+.2}: A tpr {:.2} B tpr {:.2} fpr {:.2} rw fpr {:.2}",
                case.column,
                regime.name(),
                auc(&pa, &na),
                cohens_d(&pa, &na),
                auc(&pb, &nb),
                cohens_d(&pb, &nb),
                rate(&pa, sign, t),
                rate(&pb, sign, t),
                rate(&nb, sign, t),
                rate(&v, sign, t)
            );
        }
    }
}
