"""Time of the selection strategies at pool size: 100,000 candidates.

Each strategy ranks 100,000 candidates with a random uncertainty and a random
256-d embedding (the detector's embedding size), batch 50, as
prioritise_project does after every promotion. Prints seconds per strategy
(median of --repeat runs). Leaves out reading the rows from the database.

Usage: .venv/bin/python bench/selection.py [--n 100000] [--repeat 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from ml.selection import STRATEGIES, Candidate, select  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(args.n, 256)).astype(np.float32).tolist()
    unc = rng.random(args.n)
    rare = rng.random(args.n)
    cands = [
        Candidate(i, float(u), tuple(e), {"rare": float(r)})
        for i, (u, e, r) in enumerate(zip(unc, emb, rare, strict=True))
    ]
    reference = rng.normal(size=(500, 256)).tolist()
    for name in STRATEGIES:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            select(name, cands, {}, 0, reference_embeddings=reference)
            times.append(time.perf_counter() - t0)
        print(f"{name:17s} {statistics.median(times):6.2f} s for {args.n} candidates")


if __name__ == "__main__":
    main()
