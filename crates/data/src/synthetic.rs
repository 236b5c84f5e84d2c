//! A deterministic synthetic bar generator, for benchmarks and tests.
//!
//! Uses its own SplitMix64 generator rather than `rand`'s `StdRng` on purpose: `StdRng` may change
//! its algorithm between versions, and a benchmark file must be byte-identical forever for a
//! given seed.

use std::io::{self, Write};

use tradepulse_model::UnixNanos;

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, fully specified generator, so a seed
/// gives the same sequence in every version — for synthetic data and seeded searches.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn next_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one of the pair; simplicity beats speed here).
    fn next_normal(&mut self) -> f64 {
        let (u1, u2) = (self.next_unit(), self.next_unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Parameters of a synthetic geometric random walk with 1-minute bars.
#[derive(Debug, Clone, Copy)]
pub struct RandomWalk {
    /// Number of bars.
    pub bars: usize,
    /// Generator seed.
    pub seed: u64,
    /// First bar's open time.
    pub start: UnixNanos,
    /// Bar spacing in seconds.
    pub interval_secs: i64,
    /// Starting price.
    pub start_price: f64,
    /// Per-bar log-return standard deviation.
    pub sigma: f64,
}

impl Default for RandomWalk {
    fn default() -> Self {
        Self {
            bars: 1_000_000,
            seed: 42,
            // 2024-01-01T00:00:00Z
            start: UnixNanos::new(1_704_067_200 * UnixNanos::NANOS_PER_SECOND),
            interval_secs: 60,
            start_price: 100.0,
            sigma: 0.001,
        }
    }
}

impl RandomWalk {
    /// Writes the walk as a bar CSV (`ts,open,high,low,close,volume`, ISO timestamps, prices on a
    /// 0.01 grid). Same parameters ⇒ byte-identical output.
    ///
    /// # Errors
    /// Any I/O error of `out`.
    pub fn write_csv<W: Write>(&self, out: W) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        let mut rng = SplitMix64::new(self.seed);
        writeln!(out, "ts,open,high,low,close,volume")?;
        // Work in integer cents so every printed price is exact and the OHLC rules hold.
        let mut close = (self.start_price * 100.0).round() as i64;
        let step = self.interval_secs * UnixNanos::NANOS_PER_SECOND;
        for i in 0..self.bars {
            let open = close;
            let drift = (self.sigma * rng.next_normal()).exp();
            close = ((open as f64 * drift).round() as i64).max(1);
            let wick_hi = (self.sigma * 0.5 * rng.next_normal().abs()).exp();
            let wick_lo = (-self.sigma * 0.5 * rng.next_normal().abs()).exp();
            let high = ((open.max(close) as f64 * wick_hi).round() as i64).max(open.max(close));
            let low = ((open.min(close) as f64 * wick_lo).round() as i64).clamp(1, open.min(close));
            let volume = (1000.0 * (0.5 * rng.next_normal()).exp()).round() as u64;
            let ts = UnixNanos::new(self.start.as_nanos() + step * i as i64);
            writeln!(
                out,
                "{ts},{}.{:02},{}.{:02},{}.{:02},{}.{:02},{volume}",
                open / 100,
                open % 100,
                high / 100,
                high % 100,
                low / 100,
                low % 100,
                close / 100,
                close % 100
            )?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CsvOptions, read_bars};
    use std::path::Path;

    #[test]
    fn generated_file_is_valid_and_deterministic() {
        let walk = RandomWalk {
            bars: 2_000,
            ..RandomWalk::default()
        };
        let mut a = Vec::new();
        walk.write_csv(&mut a).unwrap();
        let mut b = Vec::new();
        walk.write_csv(&mut b).unwrap();
        assert_eq!(a, b);
        let bars = read_bars(
            a.as_slice(),
            Path::new("gen.csv"),
            &CsvOptions::default(),
            0,
        )
        .unwrap();
        assert_eq!(bars.len(), 2_000);
    }
}
