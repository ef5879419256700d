"""brine adapter for modelaudit-picklescan (ModelAudit's Rust pickle scanner, PyO3 abi3 wheel).

    adapter.py decode   modelaudit_picklescan.scan_bytes(data) with its defaults

The scanner never unpickles: its Rust engine walks the opcodes; its Python layer (the
call-graph enrichment) inspects the source of importable modules named by the pickle without
importing them (importlib specs read with import hooks bypassed, source parsed with `ast`).
Nothing a pickle names is imported or run.

Accept/reject (exit 0/1, both protocols): the report says whether the opcode walk reached STOP.
It rejects when the scan's status is `error` with a `parse_error` (no opcode could be parsed),
or a `parse_incomplete` notice says parsing stopped before the stream was consumed ("pickle
exhausted before seeing STOP", a bad argument...); the error node's type is the exception
class the report names (`exception_type`, ValueError for pickletools-style parse errors).
Everything else is accepted, including scans left `inconclusive` for other reasons (opaque
protocol 5 NEXT_BUFFER, call-graph source unavailable). Prints no value: a scan builds nothing.

Scanner report (persistent protocol only, BRINE_PERSISTENT=1), from the same report:

    verdict: SafetyVerdict.CLEAN                       -> "clean"
             SUSPICIOUS or MALICIOUS (a finding)        -> "flagged"
             UNKNOWN (an incomplete or failed scan: the package is fail-closed, its
             `is_clean` is False, so callers do not let the file through)   -> "error"
    globals: metadata["import_references"] (GLOBAL, INST, STACK_GLOBAL targets the engine
             resolved), [module, name] as it names them, distinct pairs in its order. EXT
             references (reported as EXTENSION_REF findings with a made-up
             `copyreg.extension.code_N` symbol) and malformed STACK_GLOBAL operands name no
             global and are left out.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import modelaudit_picklescan as mps  # noqa: E402
from modelaudit_picklescan import SafetyVerdict, ScanStatus  # noqa: E402


def parse_failure(report):
    """(exception class, message) when the opcode walk did not reach STOP, else None."""
    if report.status == ScanStatus.ERROR:
        for e in report.errors:
            if e.category == "parse_error":
                return e.exception_type or e.category, e.message
    for n in report.notices:
        if n.code == "parse_incomplete":
            d = n.details
            return d.get("exception_type") or n.code, d.get("exception") or n.message
    if report.status == ScanStatus.ERROR:  # an error that is no parse error: the scan failed
        e = report.errors[0] if report.errors else None
        return (e.exception_type or e.category, e.message) if e else ("ScanError", "status error")
    return None


def decode(case):
    try:
        report = mps.scan_bytes(case.data)
    except Exception as e:  # the API itself raising: a rejection (and an error verdict)
        answer = au.reject(e)
        if case.report:
            answer.update({"globals": [], "verdict": "error"})
        return answer
    failure = parse_failure(report)
    answer = au.accept() if failure is None else au.reject(*failure)
    if case.report:
        answer.update(scan_report(report))
    return answer


def scan_report(report):
    if report.verdict == SafetyVerdict.CLEAN:
        verdict = "clean"
    elif report.verdict in (SafetyVerdict.SUSPICIOUS, SafetyVerdict.MALICIOUS):
        verdict = "flagged"
    else:
        verdict = "error"
    found = []
    seen = set()
    for ref in report.metadata.get("import_references", ()) or ():
        g = (au.text(ref.get("module")), au.text(ref.get("name")))
        if g not in seen:
            seen.add(g)
            found.append(list(g))
    return {"globals": found, "verdict": verdict}


if __name__ == "__main__":
    au.main(decode)
