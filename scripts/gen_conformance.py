#!/usr/bin/python3.11
"""Generate brine's conformance data from CPython itself.

    /usr/bin/python3.11 scripts/gen_conformance.py [--seed N] [--out conformance]

Writes (JSON Lines, first line a header; a set over 4 MiB goes into shards NAME-1.jsonl,
NAME-2.jsonl... instead of NAME.jsonl, each with the header):
    conformance/decode/values.jsonl        pickle.dumps of builtin and stdlib values, protocols 0-5
    conformance/decode/pickletester.jsonl  every bytes literal of CPython's test/pickletester.py
    conformance/decode/handwritten.jsonl   hand-made streams: every opcode, quirks, hostile shapes
    conformance/decode/mutations.jsonl     seeded truncations / byte flips / inserts / deletes
    conformance/encode/values.jsonl        builtin documents and the bytes pickle.dumps writes

Every expectation comes from CPython 3.11 (the interpreter running this script), through the
sandbox in scripts/brine_sandbox.py: never edit the output by hand.  Deterministic for a given
seed and interpreter: the script re-executes itself with PYTHONHASHSEED=0 so that set
iteration order is stable.  See docs/sandbox.md.

The cases are built by the modules of scripts/conformance_gen/, one per source (values,
pickletester, handwritten, mutations, encode), with opcodes laid out by
scripts/opcode_layout.py from pickletools; this script runs them in order and writes the sets.
"""

import argparse
import os
import resource
import sys
import time

from conformance_gen import REPO, decode, encode, handwritten, mutations, output, pickletester, values

ADDRESS_SPACE_LIMIT = 3 * 1024 ** 3


def reexec_with_fixed_hash_seed():
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def limit_address_space():
    """Caps the address space (3 GiB, or the hard limit if lower), so a hostile declared
    length makes CPython raise MemoryError rather than take the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = ADDRESS_SPACE_LIMIT if hard == resource.RLIM_INFINITY else min(hard, ADDRESS_SPACE_LIMIT)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def write_decode_sets(args, header, pool, value_cases, counts, stats):
    """decode/values (from value_cases: tasks and skipped pairs), pickletester, handwritten
    and mutations, in that order."""
    value_tasks, skipped = value_cases
    decode_dir = os.path.join(args.out, "decode")

    def write(stem, tasks, stats_key, head=header):
        lines = decode.run_decode(pool, tasks, stats_key, stats)
        output.write_jsonl(os.path.join(decode_dir, stem + ".jsonl"), head, lines)
        counts["decode/%s.jsonl" % stem] = len(lines)
        return lines

    lines = write("values", value_tasks, "values")
    print("values: %d cases (%d value/protocol pairs skipped: CPython cannot pickle them)"
          % (len(lines), len(skipped)))
    for s in skipped:
        print("  skipped", s)

    pt_path, tasks = pickletester.pickletester_tasks()
    h = dict(header)
    if pt_path:
        h["pickletester"] = pt_path
    write("pickletester", tasks, "pickletester", h)

    tasks = [(name, "handwritten", data, bufs, note)
             for name, data, bufs, note in handwritten.handwritten_cases()]
    write("handwritten", tasks, "handwritten")

    write("mutations", mutations.mutation_tasks(value_tasks, args.seed), "mutations")


def write_encode_set(args, header, sb, encode_docs, counts):
    """encode/values: the values' builtin documents, then the seeded random ones."""
    docs = encode_docs + encode.random_documents(args.seed)
    lines, mismatches, unstable, skipped = encode.encode_lines(sb, docs)
    output.write_jsonl(os.path.join(args.out, "encode", "values.jsonl"), header, lines)
    counts["encode/values.jsonl"] = len(lines)
    kept_random = len({line.split('"')[3].rsplit("/", 1)[0] for line in lines
                       if line.startswith('{"name":"random/')})
    print("encode: %d random documents kept (of %d)" % (kept_random, encode.RANDOM_DOCS))
    assert kept_random >= 3000, kept_random
    print("encode: %d documents, %d cases dropped because doc_to_object(value) pickles "
          "differently (should be 0), %d documents whose set order did not settle, "
          "%d document/protocol pairs CPython cannot pickle"
          % (len(docs), len(mismatches) - unstable, unstable, len(skipped)))
    for m in mismatches[:20]:
        print("  dropped", m)
    for m in skipped:
        print("  not picklable", m)


def main():
    reexec_with_fixed_hash_seed()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(REPO, "conformance"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-docs", action="store_true", help="don't update docs/sandbox.md")
    args = ap.parse_args()
    t0 = time.time()
    limit_address_space()

    sb = decode._sandbox()
    header = {"header": True, "python": sys.version, "generator": "scripts/gen_conformance.py",
              "seed": args.seed}
    counts = {}
    stats = {}
    # the values are built (and brine_values is in sys.modules) before the workers fork
    value_tasks, encode_docs, skipped = values.value_cases(values.make_brine_values())
    import multiprocessing
    pool = multiprocessing.get_context("fork").Pool(args.jobs) if args.jobs > 1 else None
    write_decode_sets(args, header, pool, (value_tasks, skipped), counts, stats)
    if pool:
        pool.close()
        pool.join()
    write_encode_set(args, header, sb, encode_docs, counts)
    output.report(args.out, counts, stats, not args.no_docs)
    print("done in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
