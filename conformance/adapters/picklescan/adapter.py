"""brine adapter for picklescan (the pickle scanner used by model hubs).

Accepts when the scan of a pickle stream completes without a parse error. It calls the
function `scan_pickle_bytes` runs, `picklescan.scanner._list_globals(data, multiple_pickles=True)`,
because `scan_pickle_bytes` itself hides a parse error when no global was found before it
(it logs a warning and returns a clean result). With multiple_pickles=True (the default of
every scan entry point) picklescan keeps reading after STOP: bytes after the first pickle
must be another pickle. Prints no value: a scan lists globals, it builds nothing.
"""
import io
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

from picklescan import scanner  # noqa: E402

if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # picklescan logs findings; the protocol owns stdout
    data = au.read_pickle()
    try:
        scanner._list_globals(io.BytesIO(data), multiple_pickles=True)
    except Exception as e:  # GenOpsError, or the ValueError of a malformed STACK_GLOBAL
        au.reject(e)
    au.accept()
