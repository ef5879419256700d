"""brine adapter for modelscan (Protect AI's model scanner; its pickle core is picklescan's).

Accept/reject (exit 0/1, both protocols): accepts when
`modelscan.tools.picklescanner._list_globals(io.BytesIO(data), multiple_pickles=True)` (what
`scan_pickle_bytes` runs for a .pkl file) completes: pickletools.genops to each STOP, again
after STOP while bytes remain (each must be another pickle), and every STACK_GLOBAL must find
two operands. Its errors are GenOpsError (wrapping genops' message) and the ValueError of a
STACK_GLOBAL without two operands. Prints no value: a scan lists globals, it builds nothing.
`modelscan.modelscan` is imported first: importing `modelscan.tools.picklescanner` alone
fails on a circular import.

Scanner report (persistent protocol only, BRINE_PERSISTENT=1): what `modelscan -p FILE.pkl`
(modelscan/cli.py `scan`) decides through its exit code, run on the bytes as an in-memory model
named `case.pkl` (ModelScan with DEFAULT_SETTINGS: its middleware picks the pickle format by
extension, `_scan_source` runs every enabled scanner, as `ModelScan.scan` does per file; the
corpus holds no zip files, so the zip branch of `_iterate_models` never applies):

    the scan failed: a parse error before any global (a PickleGenopsError in the
        results) or a scanner that raised (the STACK_GLOBAL ValueError). modelscan then does
        not count the file as scanned, so the CLI exits 3 ("no supported files"), before its
        exit 2 for errors; either way the file is not passed                -> "error"
    an issue (a global its unsafe_globals settings list, or an "unknown" STACK_GLOBAL
        operand) -> CLI exit 1                                          -> "flagged"
    otherwise (CLI exit 0; also a parse error after some globals were found: modelscan then
        judges the globals found so far and reports no error)           -> "clean"

"globals": what `_list_globals` found (every global, safe or not), as modelscan names them
((module, name) split from GLOBAL/INST arguments at the first space, STACK_GLOBAL's string
operands or "unknown"), sorted (modelscan keeps a set); on a parse error, the globals its
GenOpsError carries (those of the pickles before the failing one), empty when it raised
otherwise. Nothing is imported or executed: the scan is pickletools.genops over the bytes.
"""
import io
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import modelscan.modelscan  # noqa: E402  (first: picklescanner alone is a circular import)
from modelscan.issues import Issues  # noqa: E402
from modelscan.model import Model  # noqa: E402
from modelscan.settings import DEFAULT_SETTINGS  # noqa: E402
from modelscan.tools import picklescanner  # noqa: E402


def decode(case):
    found = None
    try:
        found = picklescanner._list_globals(io.BytesIO(case.data), True)
        answer = au.accept()
    except picklescanner.GenOpsError as e:
        found = e.globals
        answer = au.reject(e)
    except Exception as e:  # the ValueError of a STACK_GLOBAL without two operands
        answer = au.reject(e)
    if case.report:
        answer["globals"] = sorted([au.text(m), au.text(n)] for m, n in (found or ()))
        answer["verdict"] = cli_verdict(case.data)
    return answer


def cli_verdict(data):
    """The verdict of `modelscan -p case.pkl` by its exit code (3 or 2 error, 1 issues, 0 clean)."""
    scan = modelscan.modelscan.ModelScan(settings=DEFAULT_SETTINGS)
    scan._issues = Issues()
    scan._errors = list(scan._init_errors)
    scan._skipped = []
    scan._scanned = []
    model = Model("case.pkl", io.BytesIO(data))
    scan._middleware_pipeline.run(model)
    scan._scan_source(model)
    if not scan.scanned or scan.errors:  # exit 3 (the scan failed, see above) or 2
        return "error"
    if scan.issues.all_issues:
        return "flagged"
    return "clean"


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # modelscan logs what it scans; the protocol owns stdout
    au.main(decode)
