//! CPython 3.11 embedded through PyO3: the C unpickler (`_pickle`, the reference) and the
//! pure-Python `pickle._Unpickler` as engines, run inside scripts/brine_sandbox.py so that
//! nothing a pickle names is imported or called.
//!
//! The interpreter lives on one dedicated thread for the life of the process, and every
//! Python call is a job sent to it. That thread initializes the interpreter, so it is
//! Python's main thread and the sandbox's SIGALRM timeout works there (signals are only
//! handled on the main thread); it has a 1 GiB stack (reserved, not committed) because
//! CPython hashes nested tuples by plain C recursion; and it never contends for the GIL.
//! Initialization goes through `Py_InitializeFromConfig`, whose failure is a status rather
//! than an abort, so an interpreter that cannot start makes the engines `None`. The hash
//! seed is fixed at 0 (see [`initialize`]).
//!
//! Before CPython sees a pickle, [`crate::guard`] and the codec check it for inputs that
//! would make CPython allocate gigabytes or hang ([`CPython::decode`] does this itself;
//! [`CPython::decode_unguarded`] is for callers that already did; [`CPython::globals_batch`]
//! screens too).

use crate::engine::{parse_json, Answer, Codec, Engine, Input, Outcome, PoisonKind};
use crate::guard::{self, Screen};
use crate::to_json::{self, SandboxTypes};
pub use crate::python_info::{PythonInfo, Unpickler, TIMEOUT_MIN_INPUT};
use brine_codec::value::PyStr;
use brine_codec::{DecodeOptions, FindClass};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use std::ffi::CString;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

const SANDBOX_SRC: &str = include_str!("../../../scripts/brine_sandbox.py");

/// The sandbox module's entry points, bound on the interpreter thread.
pub struct Sandbox {
    /// The `brine_sandbox` module.
    pub module: Py<PyModule>,
    loads_c: Py<PyAny>,
    loads_py: Py<PyAny>,
    loads_c_raw: Py<PyAny>,
    loads_py_raw: Py<PyAny>,
    to_json_py: Py<PyAny>,
    types: SandboxTypes,
    globals_c: Py<PyAny>,
    genops_json: Py<PyAny>,
    dumps_json: Py<PyAny>,
}

type Job = Box<dyn for<'py> FnOnce(Python<'py>, &Sandbox) + Send>;

/// The embedded interpreter: a handle to its thread.
pub struct Interpreter {
    tx: mpsc::Sender<Job>,
    info: PythonInfo,
}

static INTERPRETER: OnceLock<Option<Interpreter>> = OnceLock::new();

/// The process's embedded interpreter, started on first use; `None` when it cannot start
/// (initialization failed, the sandbox did not load, or `BRINE_NO_CPYTHON` is set).
pub fn interpreter() -> Option<&'static Interpreter> {
    INTERPRETER.get_or_init(Interpreter::start).as_ref()
}

/// Initializes CPython on the current thread; false when it reported an error.
fn initialize() -> bool {
    use pyo3::ffi;
    // SAFETY: only called on the interpreter thread, once (guarded by INTERPRETER), before
    // any other use of the C API in this process; the config is initialized by CPython
    // and cleared after use. On success the thread state is released as PyO3 expects.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return true; // someone else embedded it: use theirs
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        // PYTHONHASHSEED=0, as scripts/gen_conformance.py runs CPython: set iteration order,
        // and so the bytes pickle.dumps writes for a set of strs, match the recorded data.
        config.use_hash_seed = 1;
        config.hash_seed = 0;
        // Path computation starts from the interpreter PyO3 was built against.
        if let Some(exe) = option_env!("PYO3_PYTHON").and_then(|p| CString::new(p).ok()) {
            let st = ffi::PyConfig_SetBytesString(&mut config, &mut config.program_name, exe.as_ptr());
            if ffi::PyStatus_Exception(st) != 0 {
                ffi::PyConfig_Clear(&mut config);
                return false;
            }
        }
        let st = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(st) != 0 {
            return false;
        }
        ffi::PyEval_SaveThread();
        true
    }
}

fn load_sandbox(py: Python<'_>) -> PyResult<(Sandbox, PythonInfo)> {
    let code = CString::new(SANDBOX_SRC).expect("sandbox source has no NUL");
    let module = PyModule::from_code(py, &code, c"brine_sandbox.py", c"brine_sandbox")?;
    let sys = py.import("sys")?;
    let vi: (u32, u32, u32, Bound<'_, PyAny>, Bound<'_, PyAny>) = sys.getattr("version_info")?.extract()?;
    let c_pickle = py.import("_pickle")?;
    let c_pickle = match c_pickle.getattr("__file__") {
        Ok(f) => f.extract::<String>()?,
        Err(_) => "built-in".to_string(),
    };
    // signal.signal only works on the main thread: probe it with a no-op re-install.
    let timeouts = py
        .run(c"import signal\nsignal.signal(signal.SIGALRM, signal.getsignal(signal.SIGALRM))", None, None)
        .is_ok();
    let info = PythonInfo {
        version: sys.getattr("version")?.extract()?,
        version_info: (vi.0, vi.1, vi.2),
        executable: sys.getattr("executable")?.extract()?,
        prefix: sys.getattr("prefix")?.extract()?,
        base_prefix: sys.getattr("base_prefix")?.extract()?,
        c_pickle,
        timeouts,
        fixed_hash_seed: sys.getattr("flags")?.getattr("hash_randomization")?.extract::<i64>()? == 0,
    };
    let f = |name: &str| module.getattr(name).map(|o| o.unbind());
    let class = |name: &str| module.getattr(name).and_then(|o| Ok(o.cast_into::<PyType>()?.unbind()));
    let sandbox = Sandbox {
        loads_c: f("loads_c")?,
        loads_py: f("loads_py")?,
        loads_c_raw: f("loads_c_raw")?,
        loads_py_raw: f("loads_py_raw")?,
        to_json_py: f("to_json")?,
        types: SandboxTypes { record: class("Record")?, standin_meta: class("_StandInMeta")? },
        globals_c: f("globals_c")?,
        genops_json: f("genops_json")?,
        dumps_json: f("dumps_json")?,
        module: module.unbind(),
    };
    Ok((sandbox, info))
}

impl Interpreter {
    fn start() -> Option<Interpreter> {
        if std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let (info_tx, info_rx) = mpsc::sync_channel::<Option<PythonInfo>>(1);
        std::thread::Builder::new()
            .name("brine-cpython".into())
            .stack_size(1 << 30)
            .spawn(move || {
                if !initialize() {
                    let _ = info_tx.send(None);
                    return;
                }
                Python::attach(|py| {
                    let (sandbox, info) = match load_sandbox(py) {
                        Ok(x) => x,
                        Err(e) => {
                            eprintln!("brine-oracle: the CPython sandbox did not load: {e}");
                            let _ = info_tx.send(None);
                            return;
                        }
                    };
                    let _ = info_tx.send(Some(info));
                    // Hold the GIL for good; release it only while waiting for work.
                    let mut rx = rx;
                    loop {
                        // The receiver moves through detach: it is Send but not Sync.
                        let (back, job) = py.detach(move || {
                            let job = rx.recv();
                            (rx, job)
                        });
                        rx = back;
                        match job {
                            Ok(job) => job(py, &sandbox),
                            Err(_) => break,
                        }
                    }
                })
            })
            .ok()?;
        let info = info_rx.recv().ok()??;
        Some(Interpreter { tx, info })
    }

    /// Who the interpreter is.
    pub fn info(&self) -> &PythonInfo {
        &self.info
    }

    /// Registers copyreg extension codes (`copyreg.add_extension(module, name, code)`) in
    /// the embedded interpreter, so EXT1/2/4 resolve as they would after the same calls in
    /// a real program (the spec's default is an empty registry: call this only for runs
    /// whose codec side gets the same registry, `DecodeOptions::extensions`). A code already
    /// registered to the same pair is left alone.
    pub fn register_extensions(&self, ext: Vec<(i64, String, String)>) -> Result<(), String> {
        self.run(move |py, _sb| {
            let copyreg = py.import("copyreg").map_err(|e| e.to_string())?;
            for (code, module, name) in ext {
                copyreg.call_method1("add_extension", (module, name, code)).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the interpreter thread and returns its result. A panic in `f` is
    /// re-raised here; the interpreter thread survives it.
    pub fn run<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: for<'py> FnOnce(Python<'py>, &Sandbox) -> R + Send + 'static,
    {
        let (rtx, rrx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |py, sb| {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(py, sb)));
            let _ = rtx.send(r);
        });
        self.tx.send(job).expect("the CPython thread is gone");
        match rrx.recv().expect("the CPython thread is gone") {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

impl Sandbox {
    /// Unpickles in the sandbox and converts the result (error nodes and exceptions
    /// included) to an [`Outcome`]. Runs on the interpreter thread: no guard here.
    pub fn loads(&self, py: Python<'_>, which: Unpickler, data: &[u8], buffers: Option<usize>, timeout: Option<f64>) -> Outcome {
        self.loads_with(py, which, data, buffers, None, timeout)
    }

    /// [`Sandbox::loads`] with copyreg's extension registry exactly `extensions` (module,
    /// name, code) during the load; `None` keeps the process's own registry.
    ///
    /// The sandbox's `loads_c_raw`/`loads_py_raw` load, and the object graph is converted
    /// here ([`Sandbox::raw_outcome`]): the same outcome as
    /// [`Sandbox::loads_with_py_json`], in a fraction of the time.
    pub fn loads_with(
        &self,
        py: Python<'_>,
        which: Unpickler,
        data: &[u8],
        buffers: Option<usize>,
        extensions: Option<Vec<(String, String, i64)>>,
        timeout: Option<f64>,
    ) -> Outcome {
        match self.load_raw(py, which, data, buffers, extensions, timeout) {
            Ok(raw) => self.raw_outcome(py, &raw),
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// The sandboxed load without conversion: `(result, standins)` when it succeeded, else
    /// the error node (a dict); `Err` is an exception escaping the sandbox.
    pub fn load_raw<'py>(
        &self,
        py: Python<'py>,
        which: Unpickler,
        data: &[u8],
        buffers: Option<usize>,
        extensions: Option<Vec<(String, String, i64)>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let f = match which {
            Unpickler::C => &self.loads_c_raw,
            Unpickler::Python => &self.loads_py_raw,
        };
        f.bind(py).call1((PyBytes::new(py, data), buffers.unwrap_or(0), timeout, extensions))
    }

    /// The outcome of a [`Sandbox::load_raw`] answer: the document of its result (see
    /// [`Sandbox::to_json`]), or its error node's class and message.
    pub fn raw_outcome(&self, py: Python<'_>, raw: &Bound<'_, PyAny>) -> Outcome {
        if let Ok(pair) = raw.cast::<PyTuple>() {
            let r = pair.get_item(0).and_then(|result| self.to_json(py, &result, &pair.get_item(1)?));
            return match r {
                Ok(node) => Outcome::from_node(node),
                Err(e) => exception_outcome(py, &e),
            };
        }
        // An error node {"t": "error", "type", "message"} (valid UTF-8 by construction):
        // read directly; anything else goes the JSON way, as it always did.
        let field = |k: &str| -> Option<String> {
            let v = raw.cast::<PyDict>().ok()?.get_item(k).ok()??;
            Some(v.cast::<PyString>().ok()?.to_str().ok()?.to_owned())
        };
        if let (Some(t), Some(class), Some(message)) = (field("t"), field("type"), field("message")) {
            if t == "error" {
                return Outcome::from_error_class(&class, &message);
            }
        }
        match self.json_of(py, raw) {
            Ok(node) => Outcome::from_node(node),
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// The sandbox's `to_json(result, standins)`, as the `serde_json::Value` its
    /// `dumps_json` text parses to, computed in Rust (crate::to_json): the same node
    /// shapes, key order, ids and errors. `standins` is the load's `StandIns`.
    pub fn to_json<'py>(&self, py: Python<'py>, result: &Bound<'py, PyAny>, standins: &Bound<'py, PyAny>) -> PyResult<serde_json::Value> {
        to_json::to_json(py, &self.types, result, standins)
    }

    /// The same with the sandbox's Python `to_json` and `dumps_json`, then `parse_json`:
    /// the conversion [`Sandbox::loads`] used before the Rust one, kept as the reference
    /// the Rust one is tested against (tests/to_json.rs).
    pub fn to_json_py<'py>(&self, py: Python<'py>, result: &Bound<'py, PyAny>, standins: &Bound<'py, PyAny>) -> PyResult<serde_json::Value> {
        let node = self.to_json_py.bind(py).call1((result, standins))?;
        self.json_of(py, &node)
    }

    /// [`Sandbox::loads_with`] as it was before the Rust conversion: the sandbox's
    /// `loads_c`/`loads_py` (load, Python `to_json`), `dumps_json`, then `parse_json`.
    /// The same outcome, slower; kept for comparisons and benchmarks.
    pub fn loads_with_py_json(
        &self,
        py: Python<'_>,
        which: Unpickler,
        data: &[u8],
        buffers: Option<usize>,
        extensions: Option<Vec<(String, String, i64)>>,
        timeout: Option<f64>,
    ) -> Outcome {
        let f = match which {
            Unpickler::C => &self.loads_c,
            Unpickler::Python => &self.loads_py,
        };
        let r = f
            .bind(py)
            .call1((PyBytes::new(py, data), buffers.unwrap_or(0), timeout, extensions))
            .and_then(|node| self.dumps_json.bind(py).call1((node,)))
            .and_then(|s| s.extract::<String>());
        match r {
            Ok(text) => match parse_json(&text) {
                Ok(node) => Outcome::from_node(node),
                Err(e) => Outcome::Err { class: "brine-sandbox-json".into(), message: e },
            },
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// `globals_c`: the C unpickler's `find_class` calls loading `data` with exactly the
    /// extension registry `extensions` (module, name, code), and the load's error (`None`
    /// when it succeeded; MemoryError, RecursionError and timeouts are poisons). `Err` is an
    /// exception escaping the sandbox, as [`Sandbox::loads`] reports one. Runs on the
    /// interpreter thread: no guard here.
    pub fn globals(
        &self,
        py: Python<'_>,
        data: &[u8],
        buffers: Option<usize>,
        extensions: Vec<(String, String, i64)>,
        timeout: Option<f64>,
    ) -> Result<(Vec<FindClass>, Option<Outcome>), Outcome> {
        let r = (|| -> PyResult<_> {
            let r = self.globals_c.bind(py).call1((PyBytes::new(py, data), buffers.unwrap_or(0), extensions, timeout))?;
            let (calls, error): (Bound<'_, PyAny>, Bound<'_, PyAny>) = r.extract()?;
            let mut out = Vec::new();
            for pair in calls.try_iter()? {
                let (m, n): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
                out.push((py_str(&m)?, py_str(&n)?));
            }
            let error = if error.is_none() { None } else { Some(Outcome::from_node(self.json_of(py, &error)?)) };
            Ok((out, error))
        })();
        r.map_err(|e| exception_outcome(py, &e))
    }

    /// pickletools.genops as pickle JSON.
    pub fn genops(&self, py: Python<'_>, data: &[u8]) -> Outcome {
        let r = self
            .genops_json
            .bind(py)
            .call1((PyBytes::new(py, data),))
            .and_then(|node| self.dumps_json.bind(py).call1((node,)))
            .and_then(|s| s.extract::<String>());
        match r {
            Ok(text) => match parse_json(&text) {
                Ok(j) => Outcome::Ok(j),
                Err(e) => Outcome::Err { class: "brine-sandbox-json".into(), message: e },
            },
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// `dumps_json(node)` of any Python object the sandbox can convert, parsed.
    pub fn json_of(&self, py: Python<'_>, node: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
        let text: String = self.dumps_json.bind(py).call1((node,))?.extract()?;
        parse_json(&text).map_err(pyo3::exceptions::PyValueError::new_err)
    }
}

/// A Python str as a [`PyStr`] (surrogatepass UTF-8, so lone surrogates survive).
fn py_str(s: &Bound<'_, PyAny>) -> PyResult<PyStr> {
    let s = s.cast::<PyString>()?;
    if let Ok(t) = s.to_str() {
        return Ok(PyStr::from_str(t));
    }
    let b = s.call_method1("encode", ("utf-8", "surrogatepass"))?;
    Ok(PyStr::from_bytes(b.cast::<PyBytes>()?.as_bytes()))
}

/// An exception escaping the sandbox itself: MemoryError and RecursionError are poisons;
/// anything else is a sandbox bug, reported under a class no unpickler raises so that it
/// shows up as a disagreement instead of hiding.
fn exception_outcome(py: Python<'_>, e: &PyErr) -> Outcome {
    let class = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    match Outcome::from_error_class(&class, &e.to_string()) {
        Outcome::Err { class, message } => Outcome::Err { class: format!("brine-sandbox {class}"), message },
        poison => poison,
    }
}

/// One of CPython's unpicklers as an engine.
pub struct CPython {
    interp: &'static Interpreter,
    which: Unpickler,
    guard: Codec,
    /// Per-load time limit (honoured when [`PythonInfo::timeouts`]) for inputs of at least
    /// [`TIMEOUT_MIN_INPUT`] bytes. Defaults to 20 s.
    pub timeout: Option<Duration>,
}

/// CPython's C unpickler (the reference) as an engine.
pub type CPythonC = CPython;
/// CPython's pure-Python unpickler as an engine.
pub type CPythonPy = CPython;

impl CPython {
    /// The C unpickler, or `None` when no interpreter can start.
    pub fn c() -> Option<CPython> {
        CPython::new(Unpickler::C)
    }

    /// The pure-Python unpickler, or `None` when no interpreter can start.
    pub fn python() -> Option<CPython> {
        CPython::new(Unpickler::Python)
    }

    /// The given unpickler, or `None` when no interpreter can start.
    pub fn new(which: Unpickler) -> Option<CPython> {
        Some(CPython { interp: interpreter()?, which, guard: Codec::new(), timeout: Some(Duration::from_secs(20)) })
    }

    /// Which unpickler.
    pub fn which(&self) -> Unpickler {
        self.which
    }

    /// The interpreter.
    pub fn interpreter(&self) -> &'static Interpreter {
        self.interp
    }

    fn timeout_secs(&self, len: usize) -> Option<f64> {
        self.timeout.filter(|_| self.interp.info.timeouts && len >= TIMEOUT_MIN_INPUT).map(|d| d.as_secs_f64())
    }

    /// Unpickles without the guard. The caller must have run [`crate::guard::prescan`] and
    /// the codec (see [`crate::differential::Differential`]), or CPython may allocate
    /// gigabytes or hang.
    pub fn decode_unguarded(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        let data = data.to_vec();
        let (which, timeout) = (self.which, self.timeout_secs(data.len()));
        self.interp.run(move |py, sb| sb.loads(py, which, &data, buffers, timeout))
    }

    /// Many loads in one trip to the interpreter thread (unguarded, as
    /// [`CPython::decode_unguarded`]): with `both`, the C and the Python unpickler each.
    /// A trip costs about 7 us, a fifth of a small load.
    pub fn decode_batch_unguarded(&self, inputs: Vec<(Vec<u8>, Option<usize>)>, both: bool) -> Vec<(Outcome, Option<Outcome>)> {
        let timeouts: Vec<Option<f64>> = inputs.iter().map(|(d, _)| self.timeout_secs(d.len())).collect();
        let first = if both { Unpickler::C } else { self.which };
        self.interp.run(move |py, sb| {
            inputs
                .iter()
                .zip(timeouts)
                .map(|((data, buffers), t)| {
                    let a = sb.loads(py, first, data, *buffers, t);
                    let b = both.then(|| sb.loads(py, Unpickler::Python, data, *buffers, t));
                    (a, b)
                })
                .collect()
        })
    }

    /// C and Python unpicklers in one trip to the interpreter thread (unguarded, as
    /// [`CPython::decode_unguarded`]).
    pub fn decode_both_unguarded(&self, data: &[u8], buffers: Option<usize>) -> (Outcome, Outcome) {
        let mut r = self.decode_batch_unguarded(vec![(data.to_vec(), buffers)], true);
        let (c, p) = r.pop().unwrap();
        (c, p.unwrap())
    }
}

impl Engine for CPython {
    fn name(&self) -> &'static str {
        match self.which {
            Unpickler::C => "cpython-c",
            Unpickler::Python => "cpython-py",
        }
    }

    fn decode(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        let raw = self.guard.decode_raw(data, buffers);
        match guard::screen(&self.guard, data, buffers, &raw) {
            Screen::Clear => self.decode_unguarded(data, buffers),
            Screen::Poisoned(p) => Outcome::Poisoned(p),
            Screen::Prefix(at, p) => guard::prefix_outcome(self.decode_unguarded(&data[..at], buffers), &p),
        }
    }

    fn genops(&self, data: &[u8]) -> Option<Outcome> {
        self.genops_batch(&[data]).pop()
    }

    /// Every input screened by the guard (with the input's registry, so EXT resolves as it
    /// will in CPython), the rest loaded in one trip to the interpreter thread, each with
    /// its own buffers and extension registry (an empty registry keeps the process's own,
    /// as [`Engine::decode`] does).
    fn run_batch(&self, inputs: &[Input<'_>]) -> Vec<Answer> {
        let start = std::time::Instant::now();
        let mut out: Vec<Option<Outcome>> = Vec::with_capacity(inputs.len());
        let mut prefixes = Vec::new();
        let mut todo = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let with_registry;
            let codec = if input.extensions.is_empty() {
                &self.guard
            } else {
                let extensions = input.extensions.iter().map(|(m, n, c)| (*c, (m.clone(), n.clone()))).collect();
                with_registry = Codec { options: DecodeOptions { extensions, ..DecodeOptions::default() } };
                &with_registry
            };
            let raw = codec.decode_raw(input.data, input.buffers);
            let (load, prefix) = match guard::screen(codec, input.data, input.buffers, &raw) {
                Screen::Clear => (input.data, None),
                Screen::Prefix(at, p) => (&input.data[..at], Some(p)),
                Screen::Poisoned(p) => {
                    out.push(Some(Outcome::Poisoned(p)));
                    continue;
                }
            };
            let ext = (!input.extensions.is_empty()).then(|| input.extensions.to_vec());
            todo.push((i, load.to_vec(), input.buffers, ext, self.timeout_secs(load.len())));
            prefixes.push(prefix);
            out.push(None);
        }
        let which = self.which;
        let done = self.interp.run(move |py, sb| {
            todo.into_iter()
                .map(|(i, data, buffers, ext, t)| (i, sb.loads_with(py, which, &data, buffers, ext, t)))
                .collect::<Vec<_>>()
        });
        for ((i, o), prefix) in done.into_iter().zip(prefixes) {
            out[i] = Some(match prefix {
                Some(p) => guard::prefix_outcome(o, &p),
                None => o,
            });
        }
        let per = start.elapsed().as_secs_f64() * 1e3 / inputs.len().max(1) as f64;
        out.into_iter()
            .map(|o| {
                let mut a = Answer::of(o.expect("every input answered"));
                a.ms = per;
                a
            })
            .collect()
    }
}

impl CPython {
    /// The `find_class(module, name)` calls CPython's C unpickler makes loading each input,
    /// in order, including those before an error (what [`brine_codec::globals`] computes),
    /// in one trip to the interpreter thread. Always the C unpickler, whichever this engine
    /// is, with its defaults (`fix_imports=True`); of each input's options only `buffers`
    /// and `extensions` count, the latter being copyreg's registry during that load,
    /// exactly (the process's own registrations are hidden meanwhile).
    ///
    /// Each input is screened as [`Engine::decode`] screens it (the guard's codec gets the
    /// input's registry, so EXT resolves as it will in CPython): a hazardous input is
    /// `Err(Outcome::Poisoned)` and never reaches CPython, and so is a load that ran into
    /// MemoryError, RecursionError or the timeout. A hazard at one opcode leaves the prefix
    /// before it: when CPython raises inside that prefix, its calls are the whole input's.
    /// `Err` with another outcome is an exception escaping the sandbox (a bug to report).
    pub fn globals_batch(&self, inputs: &[(&[u8], &DecodeOptions)]) -> Vec<Result<Vec<FindClass>, Outcome>> {
        let mut out: Vec<Option<Result<Vec<FindClass>, Outcome>>> = Vec::with_capacity(inputs.len());
        let mut todo = Vec::new();
        let mut prefixes = Vec::new();
        for (i, &(data, opts)) in inputs.iter().enumerate() {
            let with_registry;
            let codec = if opts.extensions.is_empty() {
                &self.guard
            } else {
                with_registry = Codec { options: DecodeOptions { extensions: opts.extensions.clone(), ..DecodeOptions::default() } };
                &with_registry
            };
            let raw = codec.decode_raw(data, opts.buffers);
            let (load, prefix) = match guard::screen(codec, data, opts.buffers, &raw) {
                Screen::Clear => (data, None),
                Screen::Prefix(at, p) => (&data[..at], Some(p)),
                Screen::Poisoned(p) => {
                    out.push(Some(Err(Outcome::Poisoned(p))));
                    continue;
                }
            };
            let mut ext: Vec<(String, String, i64)> =
                opts.extensions.iter().map(|(&code, (m, n))| (m.clone(), n.clone(), code)).collect();
            ext.sort_by_key(|e| e.2);
            todo.push((i, load.to_vec(), opts.buffers, ext, self.timeout_secs(load.len())));
            prefixes.push(prefix);
            out.push(None);
        }
        let done = self.interp.run(move |py, sb| {
            todo.into_iter()
                .map(|(i, data, buffers, ext, t)| (i, sb.globals(py, &data, buffers, ext, t)))
                .collect::<Vec<_>>()
        });
        for ((i, r), prefix) in done.into_iter().zip(prefixes) {
            out[i] = Some(match r {
                Err(e) => Err(e),
                Ok((calls, error)) => {
                    let error = match (prefix, error) {
                        // A load of the prefix that did not fail inside it says nothing.
                        (Some(p), None) => Some(Outcome::Poisoned(p)),
                        (Some(p), Some(e)) => Some(guard::prefix_outcome(e, &p)),
                        (None, e) => e,
                    };
                    match error {
                        Some(Outcome::Poisoned(p)) => Err(Outcome::Poisoned(p)),
                        _ => Ok(calls),
                    }
                }
            });
        }
        out.into_iter().map(|o| o.expect("every input answered")).collect()
    }

    /// `pickletools.genops` of many pickles in one trip to the interpreter thread (a trip
    /// costs more than a small genops), with the same guard as [`Engine::genops`].
    pub fn genops_batch(&self, inputs: &[&[u8]]) -> Vec<Outcome> {
        let mut out: Vec<Option<Outcome>> = inputs
            .iter()
            .map(|d| guard::prescan(d, true).filter(|p| p.kind == PoisonKind::Time).map(Outcome::Poisoned))
            .collect();
        let todo: Vec<(usize, Vec<u8>)> =
            inputs.iter().enumerate().filter(|(i, _)| out[*i].is_none()).map(|(i, d)| (i, d.to_vec())).collect();
        let done = self.interp.run(move |py, sb| todo.into_iter().map(|(i, d)| (i, sb.genops(py, &d))).collect::<Vec<_>>());
        for (i, o) in done {
            out[i] = Some(o);
        }
        out.into_iter().map(|o| o.expect("every input answered")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: &Result<Vec<FindClass>, Outcome>) -> Vec<(String, String)> {
        let calls = r.as_ref().unwrap_or_else(|e| panic!("no calls: {e:?}"));
        calls.iter().map(|(m, n)| (m.as_str().unwrap().into(), n.as_str().unwrap().into())).collect()
    }

    fn pair(m: &str, n: &str) -> (String, String) {
        (m.into(), n.into())
    }

    #[test]
    fn globals_batch_screens_and_records() {
        let Some(c) = CPython::c() else {
            eprintln!("no CPython: skipped");
            return;
        };
        let plain = DecodeOptions::default();
        let ext = DecodeOptions { extensions: [(1, ("__builtin__".into(), "set".into()))].into(), ..Default::default() };
        let inputs: Vec<(&[u8], &DecodeOptions)> = vec![
            (b"\x80\x02c__builtin__\nset\n.", &plain),
            (b"cfoo\nbar\n\x00.", &plain),
            (b"\x80\x02\x82\x01\x80\x03\x82\x01\x86.", &ext),
            // EXT with the empty registry: whatever this process registered stays hidden
            (b"\x80\x02\x82\x01.", &plain),
            // LONG_BINPUT 0x7fffffff: CPython never sees it; the prefix before it tells
            // nothing (it just runs out of input)...
            (b"\x80\x02cfoo\nbar\nr\xff\xff\xff\x7f.", &plain),
            // ...unless CPython raises inside it (a stack underflow here)
            (b"\x80\x02cfoo\nbar\n00r\xff\xff\xff\x7f.", &plain),
        ];
        let r = c.globals_batch(&inputs);
        assert_eq!(names(&r[0]), [pair("__builtin__", "set")]);
        assert_eq!(names(&r[1]), [pair("foo", "bar")]);
        assert_eq!(names(&r[2]), [pair("__builtin__", "set")]);
        assert_eq!(names(&r[3]), Vec::<(String, String)>::new());
        assert!(matches!(&r[4], Err(Outcome::Poisoned(p)) if p.kind == PoisonKind::Hazard), "{:?}", r[4]);
        assert_eq!(names(&r[5]), [pair("foo", "bar")]);
        // The batch agrees with the codec on all but the poisoned one.
        for (i, (data, opts)) in inputs.iter().enumerate().filter(|(i, _)| *i != 4) {
            assert_eq!(r[i].as_ref().unwrap(), &brine_codec::globals(data, opts).calls, "input {i}");
        }
    }
}
