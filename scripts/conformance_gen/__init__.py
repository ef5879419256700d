"""The parts of scripts/gen_conformance.py (the entry point), one module per source of cases.

    values.py        pickle.dumps of builtin and stdlib values         -> decode/values.jsonl
    pickletester.py  bytes literals of CPython's test/pickletester.py  -> decode/pickletester.jsonl
    handwritten.py   hand-made streams (opcode tables from pickletools) -> decode/handwritten.jsonl
    handwritten_objects.py  its sections on globals, calls, containers, memo, buffers, frames
    mutations.py     seeded mutations of the values' pickles           -> decode/mutations.jsonl
    encode.py        builtin documents and pickle.dumps' bytes          -> encode/values.jsonl
    decode.py        one decode case: CPython's two unpicklers and genops, in the sandbox
    output.py        JSON Lines with shards, the C-vs-Python table, docs/sandbox.md

Every expectation comes from the CPython running the generator (through scripts/
brine_sandbox.py); the order of the cases in each file is the order they are built in here.
"""

import os

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(SCRIPTS)
