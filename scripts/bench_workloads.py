#!/usr/bin/python3.11
"""Writes the benchmark workloads as CPython pickles: OUT/{name}.p{proto}.pkl.

The same bytes are timed for brine's codec, CPython's C pickle and serde-pickle, so they
are made once, by CPython, deterministically (seeded).
Usage: bench_workloads.py OUTDIR [--scale S]   (S=0.5 halves every workload, for the
linearity check)
"""
import pickle, random, sys, os

def workloads(scale=1.0):
    rnd = random.Random(42)
    n = lambda k: max(1, int(k * scale))
    def word(k=10):
        return ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(k))
    yield 'ints_1m', [rnd.randrange(0, 1000) for _ in range(n(1_000_000))]
    yield 'strs_200k', [word() for _ in range(n(200_000))]
    yield 'dict_100k', {word(12): rnd.random() for _ in range(n(100_000))}
    names = ['id', 'name', 'score', 'tags', 'active', 'blob']
    yield 'records_50k', [dict(zip(names, (i, word(8), rnd.random(), [word(4), word(4)], bool(i & 1), os.urandom(8))))
                          for i in range(n(50_000))]
    yield 'bytes_64m', random.Random(7).randbytes(int(64 * 1024 * 1024 * scale))

def main():
    out = sys.argv[1]
    scale = float(sys.argv[sys.argv.index('--scale') + 1]) if '--scale' in sys.argv else 1.0
    os.makedirs(out, exist_ok=True)
    for name, value in workloads(scale):
        for proto in (2, 5):
            with open(os.path.join(out, f'{name}.p{proto}.pkl'), 'wb') as f:
                f.write(pickle.dumps(value, proto))
    print('wrote workloads to', out)

if __name__ == '__main__':
    main()
