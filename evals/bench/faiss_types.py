"""FAISS index types side by side on real passage vectors: build time, query time,
memory per vector, and Recall@10 against the exact (flat) search.

    python -m evals.bench faiss --index var/bench/scale/index-inews-1000
    python -m evals.bench faiss --index var/index --grow 200000

Queries are 200 stored passage vectors, each with noise that brings its cosine to its own
passage to about 0.7 (as a question's is), so a query is near its topic rather than on
a point. ``--grow N`` adds synthetic vectors (blends of two real vectors plus noise) to see
how the types compare past the real corpus's size; recall on synthetic vectors is
indicative only, the real-vector run is the one to trust.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import faiss
import numpy as np

from evals.bench.machine import machine_info, machine_line
from index.store import load_index


def _noisy(rng: np.random.Generator, base: np.ndarray, scale: float) -> np.ndarray:
    out = base + scale * rng.normal(size=base.shape).astype(np.float32) / math.sqrt(base.shape[1])
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def candidates(n: int, dims: int) -> dict[str, callable]:
    nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))

    def ivf(nprobe: int):
        def make():
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dims), dims, nlist, faiss.METRIC_INNER_PRODUCT)
            index.nprobe = nprobe
            return index
        return make

    def hnsw(ef: int):
        def make():
            index = faiss.IndexHNSWFlat(dims, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = ef
            return index
        return make

    return {
        "flat (exact)": lambda: faiss.IndexFlatIP(dims),
        f"IVF{nlist} nprobe 8": ivf(8),
        f"IVF{nlist} nprobe 32": ivf(32),
        "HNSW32 ef 64": hnsw(64),
        "HNSW32 ef 128": hnsw(128),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench faiss", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="an index folder (CITEQA_INDEX_DIR)")
    parser.add_argument("--grow", type=int, default=0, help="total vectors after adding synthetic ones")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    data = load_index(args.index)
    real = data.dense.vectors(np.asarray([c.vid for c in data.chunks], np.int64))
    vectors = real
    if args.grow > len(real):
        # Blends of two real passages plus noise: spread over the space the corpus covers,
        # not tight copies of real vectors (which would make any index look perfect).
        m = args.grow - len(real)
        weight = rng.uniform(0, 1, size=(m, 1)).astype(np.float32)
        blend = weight * real[rng.integers(0, len(real), m)] + (1 - weight) * real[rng.integers(0, len(real), m)]
        extra = _noisy(rng, blend / np.linalg.norm(blend, axis=1, keepdims=True), 1.0)
        vectors = np.concatenate([real, extra])
    n, dims = vectors.shape
    queries = _noisy(rng, real[rng.integers(0, len(real), args.queries)], 1.0)
    print(f"{n} vectors of {dims} dims ({len(real)} real), {len(queries)} queries\n{machine_line(machine_info())}")

    truth = None
    rows = []
    for name, make in candidates(n, dims).items():
        index = make()
        started = time.perf_counter()
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        for q in queries:  # one at a time, as the service searches
            index.search(q.reshape(1, -1), 10)
        per_query_ms = (time.perf_counter() - started) * 1000 / len(queries)
        _, found = index.search(queries, 10)
        if truth is None:
            truth = found
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
        size = len(faiss.serialize_index(index)) / n
        rows.append({"index": name, "vectors": n, "build_s": round(build_s, 2), "query_ms": round(per_query_ms, 3),
                     "recall@10_vs_flat": round(recall, 4), "bytes_per_vector": round(size)})
        print(f"{name:<22} build {build_s:>7.2f} s  query {per_query_ms:>7.3f} ms  recall@10 {recall:.3f}  "
              f"{size:>6.0f} B/vector", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
