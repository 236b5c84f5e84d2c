//! Fused multiply-add for the smoothing recursions (EMA, Wilder's ATR), and the dispatch that
//! lets their batch loops use the CPU's FMA instruction.
//!
//! An exponential smoothing `v ← v·keep + x·gain` is a chain: each step needs the previous
//! one, so its speed is the latency of the chain. Written as one fused multiply-add
//! `fma(v, keep, x·gain)` the chain is a single instruction (4 cycles on current x86) instead of
//! a multiply and an add (6–8), and the product `x·gain` is computed off the chain.
//!
//! An FMA rounds once, so its result is defined exactly by IEEE 754: the hardware instruction
//! and the C library's `fma` (which glibc itself dispatches to the instruction) give the same
//! bits. Streaming updates call [`f64::mul_add`] from ordinary code (the library function);
//! batch loops run inside [`with_fma`] where it compiles to the instruction. Both give the same
//! values, on every machine, which keeps "batch equals streaming" exact and runs deterministic.

/// Runs `f` compiled for the best x86-64 level the CPU has (AVX2 + FMA, or AVX-512), so that
/// [`f64::mul_add`] inside it is one instruction; elsewhere (or on an older CPU) `f` runs as
/// ordinary code with the same results. The check is a cached load, cheap enough per batch call.
#[inline(always)]
pub(crate) fn with_fma<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}
