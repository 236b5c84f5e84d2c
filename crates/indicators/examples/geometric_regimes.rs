//! The geometric indicators over a synthetic series with planted regimes, as deviations from
//! their shuffle null (`…:z` specs): draws `docs/images/geometric-regimes.png` and prints the
//! effect sizes and threshold checks quoted in `docs/indicators.md`, the z summary on the
//! shipped data and what the null costs.
//!
//! ```text
//! cargo run --release -p tradepulse-indicators --example geometric_regimes [OUT.png]
//! ```
//!
//! The output is deterministic: the series, the surrogates and the font are fixed, so the
//! same build writes the same PNG.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[allow(dead_code, reason = "shared with the tests, which read the bounds")]
#[allow(
    clippy::unwrap_used,
    reason = "test helpers over the repo's own series and files: a failure is a bug in them"
)]
#[path = "../tests/it/planted.rs"]
mod planted;

use planted::*;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use tradepulse_indicators::{IndicatorSpec, compute_table};

type Columns = Vec<(String, Vec<Option<f64>>)>;

const FAMILY: &str = "sans-serif";

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args().nth(1).map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/images/geometric-regimes.png")
        },
        PathBuf::from,
    );
    let a = planted(1, SIGMA);
    let b = planted(OTHER.0, OTHER.1);
    let (a_cols, b_cols) = (columns(&a.bars(), false), columns(&b.bars(), false));
    draw(&out, &a, &a_cols)?;
    println!("wrote {}", out.display());

    let rw = flat_bars(&data_closes("synthetic_rw_1m.csv"));
    let rw_cols = columns(&rw, false);
    println!(
        "\nclaims (AUC over windows in the claimed direction, Cohen's d; A = seed 1, σ 0.5 %; B = seed {}, σ {} %)",
        OTHER.0,
        OTHER.1 * 100.0
    );
    println!(
        "| column | regime | AUC A | d A | AUC B | d B | z threshold (A noise 90 %) | TPR A | TPR B | FPR B | FPR random walk |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for c in CASES {
        let row = |s: &PlantedSeries, cols: &Columns| {
            let v = column(cols, c.column);
            let pos = samples(v, &s.labels, c.detects, c.lookback, 8);
            let neg = samples(v, &s.labels, Planted::Noise, c.lookback, 8);
            let au = auc(&pos, &neg);
            (
                if c.sign > 0.0 { au } else { 1.0 - au },
                c.sign * cohens_d(&pos, &neg),
                pos,
                neg,
            )
        };
        let (auc_a, d_a, pos_a, neg_a) = row(&a, &a_cols);
        let (auc_b, d_b, pos_b, neg_b) = row(&b, &b_cols);
        let t = noise_threshold(&neg_a, c.sign);
        let rw_v = finite(column(&rw_cols, c.column));
        println!(
            "| `{}` | {} {} | {auc_a:.3} | {d_a:.2} | {auc_b:.3} | {d_b:.2} | {} {:+.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            c.column,
            c.detects.name(),
            if c.sign > 0.0 { "↑" } else { "↓" },
            if c.sign > 0.0 { "≥" } else { "≤" },
            c.sign * t,
            rate(&pos_a, c.sign, t),
            rate(&pos_b, c.sign, t),
            rate(&neg_b, c.sign, t),
            rate(&rw_v, c.sign, t),
        );
    }
    println!(
        "\nthe same thresholds on the raw values (A noise 90 %): TPR B, FPR B, FPR random walk"
    );
    let (ra, rb, rrw) = (
        columns(&a.bars(), true),
        columns(&b.bars(), true),
        columns(&rw, true),
    );
    for c in CASES {
        let name = c.column.strip_suffix("_z").unwrap_or(c.column);
        let neg_a = samples(column(&ra, name), &a.labels, Planted::Noise, c.lookback, 8);
        let t = noise_threshold(&neg_a, c.sign);
        let vb = column(&rb, name);
        let pos_b = samples(vb, &b.labels, c.detects, c.lookback, 8);
        let neg_b = samples(vb, &b.labels, Planted::Noise, c.lookback, 8);
        println!(
            "| `{name}` | {} | {} {:+.4} | {:.2} | {:.2} | {:.2} |",
            c.detects.name(),
            if c.sign > 0.0 { "≥" } else { "≤" },
            c.sign * t,
            rate(&pos_b, c.sign, t),
            rate(&neg_b, c.sign, t),
            rate(&finite(column(&rrw, name)), c.sign, t),
        );
    }
    println!("\nevery column, every regime (AUC > 0.5: higher than in noise windows), A / B");
    for name in all_columns() {
        let (name, lookback) = name;
        let mut line = format!("| `{name}` |");
        for r in [Planted::Trend, Planted::MeanReversion, Planted::VolShock] {
            let cell = |s: &PlantedSeries, cols: &Columns| {
                let v = column(cols, name);
                let pos = samples(v, &s.labels, r, lookback, 8);
                let neg = samples(v, &s.labels, Planted::Noise, lookback, 8);
                if pos.is_empty() {
                    f64::NAN
                } else {
                    auc(&pos, &neg)
                }
            };
            line += &format!(" {:.2} / {:.2} |", cell(&a, &a_cols), cell(&b, &b_cols));
        }
        println!("{line}");
    }

    println!("\nz on the shipped data: mean / sd (random walk, S&P 500 daily, E-mini 10 s)");
    let spx = flat_bars(&data_closes("spx_1d.csv"));
    let es = flat_bars(&data_closes("es_10s.csv"));
    let (spx_cols, es_cols) = (columns(&spx, false), columns(&es, false));
    for (name, _) in all_columns() {
        let mut line = format!("| `{name}` |");
        for cols in [&rw_cols, &spx_cols, &es_cols] {
            let (m, sd) = mean_sd(&finite(column(cols, name)));
            line += &format!(" {m:+.2} / {sd:.2} |");
        }
        println!("{line}");
    }

    println!(
        "\ncost on spx_1d.csv ({} bars): raw spec vs :z (best of 3, ms)",
        spx.len()
    );
    let mut specs: Vec<&str> = CASES
        .iter()
        .map(|c| c.spec)
        .chain(UNCLAIMED.iter().map(|u| u.0))
        .collect();
    specs.sort_unstable();
    specs.dedup();
    for spec in specs {
        let time = |s: &str| -> Result<f64, Box<dyn Error>> {
            let parsed: IndicatorSpec = s.parse()?;
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t0 = Instant::now();
                compute_table(std::slice::from_ref(&parsed), &spx)?;
                best = best.min(t0.elapsed().as_secs_f64() * 1e3);
            }
            Ok(best)
        };
        let raw = spec.trim_end_matches(":z");
        println!("{spec:<36} {:>8.1} {:>8.1}", time(raw)?, time(spec)?);
    }
    Ok(())
}

fn all_columns() -> Vec<(&'static str, usize)> {
    let mut v: Vec<(&str, usize)> = CASES.iter().map(|c| (c.column, c.lookback)).collect();
    v.extend(UNCLAIMED.iter().map(|u| (u.1, u.2)));
    v.dedup();
    v
}

fn regime_color(r: Planted) -> Option<RGBColor> {
    match r {
        Planted::Noise => None,
        Planted::Trend => Some(RGBColor(60, 170, 80)),
        Planted::MeanReversion => Some(RGBColor(240, 150, 30)),
        Planted::VolShock => Some(RGBColor(220, 50, 50)),
    }
}

/// The price panel and one panel per z column, the planted segments shaded.
fn draw(path: &Path, s: &PlantedSeries, cols: &Columns) -> Result<(), Box<dyn Error>> {
    register_font(
        FAMILY,
        FontStyle::Normal,
        epaint_default_fonts::HACK_REGULAR,
    )
    .map_err(|_| "the embedded font could not be loaded")?;
    let mut panels: Vec<(String, Vec<Option<f64>>)> = vec![(
        "planted series: ln price (shaded: green trend, orange mean reversion, red volatility shock; white noise)".to_owned(),
        s.closes.iter().map(|p| Some(p.ln())).collect(),
    )];
    for (name, _) in all_columns() {
        let claim = CASES
            .iter()
            .filter(|c| c.column == name)
            .map(|c| {
                format!(
                    "{} {}",
                    c.detects.name(),
                    if c.sign > 0.0 { "up" } else { "down" }
                )
            })
            .collect::<Vec<_>>();
        let claim = if claim.is_empty() {
            "no planted regime separated".to_owned()
        } else {
            format!("claims: {}", claim.join(", "))
        };
        panels.push((format!("{name}   ({claim})"), column(cols, name).to_vec()));
    }
    let (w, panel_h) = (1400u32, 120u32);
    let h = panel_h * panels.len() as u32;
    let mut buffer = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = s.closes.len();
        for (area, (title, values)) in root.split_evenly((panels.len(), 1)).iter().zip(&panels) {
            let mut v: Vec<f64> = finite(values);
            v.sort_by(f64::total_cmp);
            let (lo, hi) = if title.starts_with("planted") {
                (v[0], v[v.len() - 1])
            } else {
                // z panels: the 0.5–99.5 % range, at least ±3, at most ±12.
                let q = |p: f64| v[((v.len() - 1) as f64 * p) as usize];
                (q(0.005).clamp(-12.0, -3.0), q(0.995).clamp(3.0, 12.0))
            };
            let pad = (hi - lo) * 0.05;
            let mut chart = ChartBuilder::on(area)
                .margin_top(4)
                .margin_right(12)
                .caption(title, (FAMILY, 14))
                .x_label_area_size(18)
                .y_label_area_size(48)
                .build_cartesian_2d(0..n, (lo - pad)..(hi + pad))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_labels(4)
                .x_labels(8)
                .label_style((FAMILY, 11))
                .draw()?;
            let mut start = 0;
            for t in 1..=n {
                if t == n || s.labels[t] != s.labels[start] {
                    if let Some(c) = regime_color(s.labels[start]) {
                        chart.draw_series(std::iter::once(Rectangle::new(
                            [(start, lo - pad), (t, hi + pad)],
                            c.mix(0.18).filled(),
                        )))?;
                    }
                    start = t;
                }
            }
            if !title.starts_with("planted") {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(0, 0.0), (n, 0.0)],
                    BLACK.mix(0.4),
                )))?;
            }
            let points = values.iter().enumerate().filter_map(|(t, v)| {
                v.filter(|v| v.is_finite())
                    .map(|v| (t, v.clamp(lo - pad, hi + pad)))
            });
            // (plotters' `LineSeries` needs a feature the workspace leaves off; a path is the same.)
            chart.draw_series(std::iter::once(PathElement::new(
                points.collect::<Vec<_>>(),
                RGBColor(30, 70, 160),
            )))?;
        }
        root.present()?;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&buffer)?;
    writer.finish()?;
    Ok(())
}
