//! Runtime CPU dispatch for the hot batch loops: [`with_cpu_features`] runs a loop compiled for
//! the best x86-64 level the CPU has, which gives the smoothing recursions a one-instruction
//! fused multiply-add and lets independent per-value work (BBANDS' square root)
//! vectorise with AVX2.
//!
//! Why FMA: an exponential smoothing `v ← v·keep + x·gain` is a chain, each step needs the
//! previous one, so its speed is the latency of the chain. Written as one fused multiply-add
//! `fma(v, keep, x·gain)` the chain is a single instruction (4 cycles on current x86) instead of
//! a multiply and an add (6–8), and the product `x·gain` is computed off the chain.
//!
//! Same bits everywhere: an FMA rounds once, so IEEE 754 defines its result exactly. Streaming
//! updates call [`f64::mul_add`] from ordinary code, which the Rust runtime's `fma` serves
//! (itself using the instruction when the CPU has it, an exact software fallback otherwise);
//! inside [`with_cpu_features`] it compiles to the instruction. Both give the same values on
//! every machine, which keeps "batch equals streaming" exact and runs deterministic; Rust never
//! fuses a multiply and an add on its own, so nothing else changes bits.

/// Runs `f` compiled for the best x86-64 level the CPU has (AVX2 + FMA, or AVX-512), so that
/// [`f64::mul_add`] inside it is one instruction; elsewhere (or on an older CPU) `f` runs as
/// ordinary code with the same results. The check is a cached load, cheap enough per batch call.
#[inline(always)]
pub(crate) fn with_cpu_features<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}
