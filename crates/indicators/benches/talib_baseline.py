#!/usr/bin/env python3
"""TA-Lib's speed on this machine, the baseline of `cargo bench -p tradepulse-indicators`.

    pip install ta-lib   # PyPI package `ta-lib` (bundles the TA-Lib C library)
    python3 crates/indicators/benches/talib_baseline.py

Times one call of each TA-Lib function over 1M and 10M random-walk inputs (best of 7, in the
thread's CPU time like `tradepulse-bench-clock`, so a busy machine does not inflate it) and
prints ns per element. The wrapper's overhead per call is microseconds, so this is the C loop
plus the allocation of the output array, i.e. comparable to our `batch_alloc` group and within
a few percent of `batch`.
"""

import time

import numpy as np
import talib

rng = np.random.default_rng(1)
version = talib.__ta_version__
if isinstance(version, bytes):
    version = version.decode()
print(f"TA-Lib C {version}, wrapper {talib.__version__}")
for n in [1_000_000, 10_000_000]:
    x = 1000 + np.cumsum(rng.uniform(-1, 1, n))
    h, l = x + 0.6, x - 0.6

    def best(f, reps=7):
        t = 1e9
        for _ in range(reps):
            s = time.thread_time()
            f()
            t = min(t, time.thread_time() - s)
        return t / n * 1e9

    print(
        f"{n:>10}  SMA(50) {best(lambda: talib.SMA(x, 50)):.2f}  EMA(50) {best(lambda: talib.EMA(x, 50)):.2f}  "
        f"RSI(14) {best(lambda: talib.RSI(x, 14)):.2f}  ATR(14) {best(lambda: talib.ATR(h, l, x, 14)):.2f}  "
        f"BBANDS(20,2) {best(lambda: talib.BBANDS(x, 20, 2, 2, 0)):.2f}  ns/element"
    )
