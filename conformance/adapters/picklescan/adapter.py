"""brine adapter for picklescan (the pickle scanner used by model hubs).

Accept/reject (exit 0/1, both protocols): accepts when the scan of a pickle stream completes
without a parse error. It calls the function `scan_pickle_bytes` runs,
`picklescan.scanner._list_globals(data, multiple_pickles=True)`, because `scan_pickle_bytes`
itself hides a parse error when no global was found before it (it logs a warning and returns
a clean result). With multiple_pickles=True (the default of every scan entry point)
picklescan keeps reading after STOP: bytes after the first pickle must be another pickle.
Prints no value: a scan lists globals, it builds nothing.

Scanner report (persistent protocol only, BRINE_PERSISTENT=1): the public entry point,
`scanner.scan_pickle_bytes(io.BytesIO(data), "file", multiple_pickles=True)` (what
`picklescan -p FILE.pkl` reaches for a file that is neither a zip nor a 7z archive), with the
verdict picklescan's CLI (picklescan/cli.py `main`) gives through its exit code:

    scan_pickle_bytes raises (the ValueError of a malformed STACK_GLOBAL: the CLI logs
        "Unhandled exception" and exits 2)                               -> "error"
    result.scan_err (a parse error after some globals were found: CLI exit 2,
        tested before the issue count)                                   -> "error"
    result.issues_count > 0 (a dangerous global, or an "unknown" one; then also
        infected_files == 1: CLI exit 1)                                 -> "flagged"
    otherwise (CLI exit 0): no global or only innocuous/suspicious ones, or a parse error
        before any global (logged as "could not parse", reported clean)  -> "clean"

"globals" lists result.globals, i.e. every global _list_globals found (innocuous, suspicious
and dangerous alike; empty when the scan raised or gave up on a parse error before finding
one) as picklescan names them: (module, name) split as it splits GLOBAL/INST arguments and
reads STACK_GLOBAL's strings ("unknown" where it could not tell). picklescan keeps them in a
set, whose order depends on the process's hash seed: they are reported sorted.
"""
import io
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

from picklescan import scanner  # noqa: E402


def decode(case):
    try:
        scanner._list_globals(io.BytesIO(case.data), multiple_pickles=True)
        answer = au.accept()
    except Exception as e:  # GenOpsError, or the ValueError of a malformed STACK_GLOBAL
        answer = au.reject(e)
    if case.report:
        answer.update(scan_report(case.data))
    return answer


def scan_report(data):
    """{"globals", "verdict"} as picklescan's public scan and its CLI's exit code see it."""
    try:
        result = scanner.scan_pickle_bytes(io.BytesIO(data), "file", multiple_pickles=True)
    except Exception:  # the CLI's "Unhandled exception": exit 2
        return {"globals": [], "verdict": "error"}
    if result.scan_err:
        verdict = "error"
    elif result.issues_count > 0:
        verdict = "flagged"
    else:
        verdict = "clean"
    found = sorted({(au.text(g.module), au.text(g.name)) for g in result.globals})
    return {"globals": [list(g) for g in found], "verdict": verdict}


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # picklescan logs findings; the protocol owns stdout
    au.main(decode)
