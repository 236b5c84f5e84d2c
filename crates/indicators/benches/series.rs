//! Synthetic series shared by the benchmark and the `curvature_work` example.

/// A multiplicative random walk (≈0.58 % moves, like daily index closes), positive forever.
pub fn log_walk(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut log_p = 1000f64.ln();
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            log_p += ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
            log_p.exp()
        })
        .collect()
}
