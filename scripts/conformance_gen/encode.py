"""Encode cases (encode/values.jsonl): builtin documents and the bytes CPython's pickle.dumps
writes for them at each protocol.  The documents are the values' builtin ones and RANDOM_DOCS
seeded random ones (DocGen: shared objects, cycles through lists and dicts, batch-boundary
sizes, every kind of str), plus three large ones for framing."""

import json
import random

RANDOM_DOCS = 3100


# =============================================================================================
# Random builtin documents

class DocGen:
    def __init__(self, rng):
        self.rng = rng

    def new_doc(self, budget):
        self.budget = budget
        self.pool_hashable = []     # shared str/bytes/tuple/frozenset objects
        self.pool_mutable = []      # lists/dicts/sets/bytearrays made so far
        self.ancestors = []         # open lists/dicts
        return self.value(0)

    def text(self):
        r = self.rng
        kind = r.random()
        n = r.choice([0, 1, 1, 2, 3, 5, 8, 13] * 10 + [40, 255, 256])
        if kind < 0.5:
            alphabet = "abcdefghijklmnopqrstuvwxyz_ 0123456789"
            return "".join(r.choice(alphabet) for _ in range(n))
        if kind < 0.7:
            return "".join(chr(r.randrange(0, 0x100)) for _ in range(n))
        if kind < 0.9:
            return "".join(chr(r.randrange(0x100, 0xd800)) for _ in range(n))
        if kind < 0.96:
            return "".join(chr(r.choice([r.randrange(0x10000, 0x110000),
                                         r.randrange(0xe000, 0x10000)])) for _ in range(n))
        return "".join(chr(r.randrange(0xd800, 0xe000)) for _ in range(max(n, 1)))

    def data(self):
        r = self.rng
        n = r.choice([0, 1, 2, 3, 16] * 10 + [255, 256, 300])
        return bytes.fromhex("".join("%02x" % r.randrange(256) for _ in range(n)))

    def number(self, nan=True):
        r = self.rng
        k = r.random()
        if k < 0.3:
            return r.randrange(-300, 300)
        if k < 0.5:
            return r.choice([0, 1, -1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31,
                             -2 ** 31 - 1, 2 ** 63, -2 ** 63 - 1, 2 ** 64, 2 ** 2039,
                             -2 ** 2039 - 1])
        if k < 0.65:
            return r.randrange(-2 ** r.randrange(1, 200), 2 ** r.randrange(1, 200))
        if k < 0.75:
            # NaN hashes by identity since 3.10: in a set it would make the order depend on
            # memory addresses, so it appears only where it is not hashed
            return r.choice([0.0, -0.0, float("inf"), float("-inf"), 1e16, 5e-324,
                             1.7976931348623157e308] + ([float("nan")] if nan else []))
        return r.uniform(-1e6, 1e6) * 10 ** r.randrange(-20, 20)

    def atom(self, nan=True):
        r = self.rng
        k = r.random()
        if k < 0.05:
            return None
        if k < 0.1:
            return r.random() < 0.5
        if k < 0.45:
            return self.number(nan)
        if k < 0.8:
            s = self.text()
            self.pool_hashable.append(s)
            return s
        if k < 0.95:
            b = self.data()
            self.pool_hashable.append(b)
            return b
        return ()

    def hashable(self, depth):
        r = self.rng
        self.budget -= 1
        if self.pool_hashable and r.random() < 0.08:
            return r.choice(self.pool_hashable)
        if depth < 4 and self.budget > 0 and r.random() < 0.15:
            items = [self.hashable(depth + 1) for _ in range(r.randrange(0, 4))]
            o = tuple(items) if r.random() < 0.6 else frozenset(items)
            self.pool_hashable.append(o)
            return o
        return self.atom(nan=False)

    def value(self, depth):
        r = self.rng
        self.budget -= 1
        k = r.random()
        if self.ancestors and k < 0.03:
            return r.choice(self.ancestors)        # a cycle (through lists/dicts only)
        if k < 0.08 and (self.pool_mutable or self.pool_hashable):
            pool = self.pool_mutable if (self.pool_mutable and r.random() < 0.5) else None
            if pool:
                return r.choice(pool)
            if self.pool_hashable:
                return r.choice(self.pool_hashable)
        if depth > 12 or self.budget <= 0 or k < 0.45:
            if r.random() < 0.05:
                b = bytearray(self.data())
                self.pool_mutable.append(b)
                return b
            return self.atom()
        n = self.size()
        kind = r.random()
        if kind < 0.35:
            o = []
            self.pool_mutable.append(o)
            self.ancestors.append(o)
            for _ in range(n):
                o.append(self.value(depth + 1))
            self.ancestors.pop()
            return o
        if kind < 0.6:
            o = {}
            self.pool_mutable.append(o)
            self.ancestors.append(o)
            for _ in range(n):
                o[self.hashable(depth + 1)] = self.value(depth + 1)
            self.ancestors.pop()
            return o
        if kind < 0.8:
            o = tuple(self.value(depth + 1) for _ in range(n))
            if r.random() < 0.3 and hashable_without_nan(o):
                self.pool_hashable.append(o)
            return o
        if kind < 0.9:
            o = set(self.hashable(depth + 1) for _ in range(n))
            self.pool_mutable.append(o)
            return o
        o = frozenset(self.hashable(depth + 1) for _ in range(n))
        self.pool_hashable.append(o)
        return o

    def size(self):
        r = self.rng
        k = r.random()
        if k < 0.6:
            n = r.randrange(0, 5)
        elif k < 0.9:
            n = r.randrange(5, 30)
        elif k < 0.99:
            n = r.choice([999, 1000, 1001, 150, 64])
        else:
            n = r.randrange(2000, 2100)
        return max(0, min(n, self.budget))


def hashable_without_nan(o):
    try:
        hash(o)
    except TypeError:
        return False
    stack = [o]
    while stack:
        x = stack.pop()
        if type(x) is float and x != x:
            return False
        if type(x) in (tuple, frozenset):
            stack.extend(x)
    return True


def random_documents(seed):
    """[(label, obj, protocols)]"""
    rng = random.Random(seed * 7919 + 13)
    gen = DocGen(rng)
    docs = []
    for i in range(RANDOM_DOCS):
        k = rng.random()
        budget = 2 if k < 0.5 else 8 if k < 0.85 else 20 if k < 0.99 else 100
        docs.append(("random/%04d" % i, gen.new_doc(budget), range(6)))
    # a few large documents: framing and out-of-frame writes at protocols 4-5
    big = bytes(rng.randrange(256) for _ in range(1 << 16))
    # (framing exists from protocol 4 on and protocol 5 writes these as 4 does: the large
    # documents are written at protocol 4 only; see docs/sandbox.md "Size budget")
    docs.append(("large/bytes_frame_boundaries",
                 [big[:65535], big[:65536], b"tail", list(range(3000))], (4,)))
    docs.append(("large/str_and_items",
                  ["x" * 70000, "\u20ac" * 30000, [str(i) for i in range(2000)]], (4,)))
    docs.append(("large/three_frames", ["y" * (192 * 1024), big * 2, list(range(2000))], (4,)))
    return docs


# =============================================================================================
# The cases

def settled_document(sb, obj):
    """(pickle JSON text of obj, the object rebuilt from it), or None.  A set rebuilt by adding
    its items in its own iteration order may iterate in another order (collisions, resizes):
    the object is rebuilt from its own document until that is a fixed point, so document ->
    object -> document is stable (the oracle and the encoder tests rely on that); None when it
    does not settle in 6 rounds."""
    value_json = sb.dumps_json(sb.to_json(obj))
    for _ in range(6):
        obj = sb.doc_to_object(json.loads(value_json))
        again_json = sb.dumps_json(sb.to_json(obj))
        if again_json == value_json:
            return value_json, obj
        value_json = again_json
    return None


def encode_lines(sb, docs):
    """(JSON lines, mismatches, unstable count, not picklable) for [(label, object, protocols)]:
    one line per document and protocol, the bytes of pickle.dumps of the settled object, kept
    only when the object rebuilt from the document pickles to the same bytes."""
    import pickle
    lines = []
    mismatches = []
    skipped = []
    unstable = 0
    for label, obj, protos in docs:
        settled = settled_document(sb, obj)
        if settled is None:
            unstable += 1
            mismatches.append("%s: document order of sets does not settle" % label)
            continue
        value_json, obj = settled
        rebuilt = sb.doc_to_object(json.loads(value_json))
        for proto in protos:
            try:
                data = pickle.dumps(obj, proto)
            except Exception as e:
                skipped.append("%s/p%d: %s: %s" % (label, proto, type(e).__name__,
                                                  str(e)[:60]))
                continue
            again = pickle.dumps(rebuilt, proto)
            if again != data:
                mismatches.append("%s/p%d: doc_to_object pickles differently" % (label, proto))
                continue
            lines.append('{"name":%s,"protocol":%d,"value":%s,"pickle":"%s"}\n'
                         % (json.dumps("%s/p%d" % (label, proto)), proto, value_json,
                            data.hex()))
    return lines, mismatches, unstable, skipped
