"""brine adapter for fickling (Trail of Bits' pickle decompiler and static analyser).

Accept/reject (exit 0/1, both protocols): accepts when `fickling.fickle.Pickled.load(data)`
parses the stream (its default fail_on_decode_error=True); prints no value: Pickled is a list
of opcodes, not the object the pickle builds. Pickled.load walks pickletools.genops to the
first STOP and also checks that every opcode's inline argument is complete.

Scanner report (persistent protocol only, BRINE_PERSISTENT=1): what `fickling --check-safety
FILE` (fickling/cli.py `main`) decides, by its exit code, run on the same bytes:

    StackedPickle.load(data, fail_on_decode_error=False) raises PickleDecodeError
        (EmptyPickleError: not even one opcode parses; CLI exit 2, EXIT_ERROR)   -> "error"
    any other exception from loading or analysing (NotImplementedError for an opcode
        fickling has no class for, an analysis bug...: the CLI does not catch it and dies
        with a traceback; the file is not let through)                          -> "error"
    fickling.analysis.check_safety(pickled) of some stacked pickle has a severity
        above Severity.LIKELY_SAFE (CLI exit 1, EXIT_UNSAFE)                     -> "flagged"
    every stacked pickle's severity is LIKELY_SAFE (CLI exit 0, EXIT_CLEAN)      -> "clean"

The CLI's defaults are kept (every stacked pickle, the default Analyzer with every analysis,
an undecodable tail marking the pickle has_invalid_opcode, which its InvalidOpcode analysis
rates LIKELY_UNSAFE) except that no safety_results.json is written (json_output_path=None;
the CLI appends to one by default). The analysis runs under the interpreter's default
recursion limit, as the CLI does: deep pickles make fickling's recursive AST passes raise
RecursionError, which its analyses rate LIKELY_UNSAFE.

"globals" lists the imports fickling's analysis sees (`pickled.properties.imports` of each
stacked pickle, what its UnsafeImports / NonStandardImports / UnsafeImportsML analyses read):
each `from MODULE import NAME` (from GLOBAL, INST and STACK_GLOBAL) as [MODULE, NAME], as
fickling names them (a STACK_GLOBAL argument that is not a str constant gets a made-up
identifier such as `_malformed_module_str_12345`, hash-seeded), distinct pairs in the order
the opcodes run. `import copyreg, sys`, which fickling writes for EXT1/2/4 (it does not look
the code up in copyreg), names modules rather than a global and is left out. A pickle whose
interpretation failed lists what the AST held when its pass stopped (often nothing).
"""
import contextlib
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import ast  # noqa: E402

from fickling import fickle  # noqa: E402
from fickling.analysis import Severity, check_safety  # noqa: E402
from fickling.fickle import Pickled  # noqa: E402


def decode(case):
    try:
        Pickled.load(case.data)
        answer = au.accept()
    except Exception as e:  # any exception the parser raises is its rejection
        answer = au.reject(e)
    if case.report:
        answer.update(safety_report(case.data))
    return answer


def safety_report(data):
    """{"globals", "verdict"} as `fickling --check-safety` sees the bytes."""
    found = []
    seen = set()

    def collect(pickled):
        try:
            imports = pickled.properties.imports
        except Exception:
            return
        for node in imports:
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    g = (au.text(node.module), au.text(alias.name))
                    if g not in seen:
                        seen.add(g)
                        found.append(list(g))

    # fickling writes some warnings to sys.stdout: keep them off the protocol's stdout
    with contextlib.redirect_stdout(sys.stderr):
        try:
            stacked = fickle.StackedPickle.load(io.BytesIO(data), fail_on_decode_error=False)
        except Exception:  # PickleDecodeError: EXIT_ERROR; anything else: a CLI crash
            return {"globals": [], "verdict": "error"}
        verdict = "clean"
        for pickled in stacked:
            try:
                results = check_safety(pickled, json_output_path=None)
            except Exception:
                collect(pickled)
                return {"globals": found, "verdict": "error"}
            collect(pickled)
            if results.severity > Severity.LIKELY_SAFE:
                verdict = "flagged"
    return {"globals": found, "verdict": verdict}


if __name__ == "__main__":
    au.main(decode)
