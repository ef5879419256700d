"""Seeded mutations of the values' pickles (decode/mutations.jsonl): truncations, bit flips
and overwrites, inserted and deleted bytes, deduplicated by bytes.

Mutation recipe per source pickle (see docs/sandbox.md, "Size budget").  Every mutated case
carries its full disassembly (~17 bytes of JSON per pickle byte), so to stay under ~60 MB in
all: sources up to MUT_SMALL_SOURCE bytes get the full recipe, larger ones are cut to
MUT_LARGE_CAP bytes and get MUT_LARGE_RECIPE.
"""

import random

MUT_FULL_RECIPE = (40, 20, 5, 5)    # truncation cut points, flips/overwrites, inserts, deletes
MUT_SMALL_SOURCE = 40
MUT_LARGE_CAP = 96
MUT_LARGE_RECIPE = (6, 3, 1, 1)


def mutations_of(label, data, rng):
    """[(kind, index, bytes)] for one source pickle"""
    if len(data) <= MUT_SMALL_SOURCE:
        src = data
        ntrunc, nflip, nins, ndel = MUT_FULL_RECIPE
    else:
        src = data[:MUT_LARGE_CAP]
        ntrunc, nflip, nins, ndel = MUT_LARGE_RECIPE
    n = len(src)
    out = []
    if n <= ntrunc:
        cuts = list(range(n))
    else:
        cuts = sorted({i * n // ntrunc for i in range(ntrunc)})
    for k in cuts:
        out.append(("truncate", k, src[:k]))
    for i in range(nflip):
        if n == 0:
            break
        pos = rng.randrange(n)
        b = bytearray(src)
        if rng.random() < 0.5:
            b[pos] ^= 1 << rng.randrange(8)
            kind = "flip"
        else:
            b[pos] = rng.randrange(256)
            kind = "overwrite"
        out.append((kind, i, bytes(b)))
    for i in range(nins):
        pos = rng.randrange(n + 1)
        out.append(("insert", i, src[:pos] + bytes([rng.randrange(256)]) + src[pos:]))
    for i in range(ndel):
        if n == 0:
            break
        pos = rng.randrange(n)
        out.append(("delete", i, src[:pos] + src[pos + 1:]))
    return out


def mutation_tasks(value_tasks, seed):
    """Decode tasks for the mutations of every value pickle, in the values' order, from one
    random.Random(seed) drawn in that order; a mutation equal to a value pickle or to an
    earlier mutation is left out."""
    rng = random.Random(seed)
    seen = set(t[2] for t in value_tasks)
    tasks = []
    for name, _src, data, nbuf, _note in value_tasks:
        short = name.replace("/", "_")
        for kind, idx, mdata in mutations_of(short, data, rng):
            if mdata in seen:
                continue
            seen.add(mdata)
            tasks.append(("mutation/%s/%s/%d" % (kind, short, idx), "mutation", mdata, nbuf,
                          None))
    return tasks
