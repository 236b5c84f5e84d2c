//! [`ThreadCpuTime`]: a criterion measurement of the CPU time of the benchmark's own thread.
//!
//! The development machines have 2 cores, usually shared with a build. Wall-clock time then
//! counts the time the benchmark thread waited for a core; its own CPU time does not, so figures
//! taken under load stay comparable with figures taken on a quiet machine (caches and memory
//! bandwidth are still shared, so a busy machine can still slow a run by a few per cent).
//! On a quiet machine the two agree. Used by `cargo bench` in the backtest and indicators
//! crates; benchmarks only, never a dependency of the product.

use cpu_time::ThreadTime;
use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// Criterion measurement: CPU time of the calling thread, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID` on Linux, through the `cpu-time` crate).
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = ThreadTime;
    type Value = u64;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }
    fn end(&self, start: ThreadTime) -> u64 {
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a.saturating_add(*b)
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Formats nanoseconds and elements per second like criterion's wall-time formatter.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iteration = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => {
                *n as f64
            }
            _ => 1.0,
        };
        // `values` hold nanoseconds per iteration; report millions of elements per CPU-second.
        values
            .iter_mut()
            .for_each(|v| *v = per_iteration * 1e9 / *v / 1e6);
        "Melem/s (CPU)"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
