//! An adapter process (conformance/README.md) as an [`Engine`]: the same trait as brine's
//! codec and CPython's unpicklers, so `check-impl`, the matrix and campaigns treat every
//! implementation alike.
//!
//! Two ways to run an adapter:
//! - **per case**: one process per pickle (`process::run`), exit status and stdout judged;
//! - **persistent**: one process per worker thread, started with `BRINE_PERSISTENT=1`,
//!   fed one JSON line per case and answering one line per case. A crash, a garbled answer
//!   or a timeout costs only the case being served: the process group is killed and the
//!   next case starts a fresh process.
//!
//! Both end in the same [`Answer`]: exit 0 with a value node is [`Outcome::Ok`], exit 0 with
//! nothing printed [`Outcome::Accepted`], exit 1 (or an error node) [`Outcome::Err`] with the
//! class the adapter named (empty when it named none), anything else [`Outcome::Crashed`], a
//! timeout a [`PoisonKind::Time`] poison. MemoryError and RecursionError stay plain errors
//! here: for an implementation under test they are its answer, not the oracle's limit.

use super::process::{self, Exit, Limits};
use brine_codec::json::parse_deep;
use brine_oracle::engine::{Answer, Engine, Input, Outcome, Poison, PoisonKind, ScanVerdict};
use serde_json::{json, Value as J};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest answer line a persistent adapter may print (4 MiB, four times the largest
/// document in corpus/): past it, the process counts as dead (it is killed and restarted)
/// and the case as a crash with that reason. An implementation that expands a small
/// pickle's shared references into a tree prints gigabytes, and a campaign holds a batch of
/// 256 parsed answers (each about ten times its text): the pickled campaign's harness
/// reached 23 GB and was killed before this bound.
const MAX_ANSWER: u64 = 4 << 20;
/// What the reader thread passes on for an answer longer than [`MAX_ANSWER`].
const OVERSIZED: &str = "\u{0}oversized";

/// Stack of the threads that parse adapters' answers (documents nest 100,000 deep).
const STACK: usize = 256 << 20;

/// An adapter command, run per case or persistently, as an engine.
pub struct AdapterEngine {
    name: String,
    cmd: String,
    root: PathBuf,
    persistent: bool,
    limits: Limits,
    jobs: usize,
    /// Idle persistent processes, reused by the next batch.
    idle: Mutex<Vec<Worker>>,
    /// Processes started (1 per worker thread, plus 1 per restart after a crash/timeout).
    starts: AtomicUsize,
}

impl AdapterEngine {
    /// An engine running `cmd` (a shell string) in `root`.
    pub fn new(name: &str, cmd: &str, root: &Path, persistent: bool, limits: Limits, jobs: usize) -> AdapterEngine {
        AdapterEngine {
            name: name.to_string(),
            cmd: cmd.to_string(),
            root: root.to_path_buf(),
            persistent,
            limits,
            jobs: jobs.max(1),
            idle: Mutex::new(vec![]),
            starts: AtomicUsize::new(0),
        }
    }

    /// Whether it runs in persistent mode.
    pub fn persistent(&self) -> bool {
        self.persistent
    }

    /// How many processes have been started so far.
    pub fn starts(&self) -> usize {
        self.starts.load(Ordering::Relaxed)
    }

    /// Runs `f` over `items` on `jobs` big-stack threads, each holding one persistent process
    /// (taken from the idle pool or started), results in order.
    fn parallel<T: Sync, R: Send>(&self, items: &[T], f: impl Fn(&mut Option<Worker>, &T) -> R + Sync) -> Vec<R> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
        let jobs = self.jobs.min(items.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..jobs {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(s, || {
                        let mut worker = self.idle.lock().unwrap().pop();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            let r = f(&mut worker, item);
                            results.lock().unwrap()[i] = Some(r);
                        }
                        if let Some(w) = worker {
                            self.idle.lock().unwrap().push(w);
                        }
                    })
                    .expect("spawn adapter thread");
            }
        });
        results.into_inner().unwrap().into_iter().map(|r| r.expect("every item ran")).collect()
    }

    /// Sends one request line to a persistent process (starting one when needed) and returns
    /// the answer line; on a crash or timeout the process is killed and dropped.
    fn ask(&self, worker: &mut Option<Worker>, line: &str) -> Result<String, Failure> {
        if worker.is_none() {
            self.starts.fetch_add(1, Ordering::Relaxed);
            *worker = Some(Worker::start(&self.cmd, &self.root, &self.limits).map_err(Failure::Died)?);
        }
        let w = worker.as_mut().expect("started");
        match w.ask(line, self.limits.timeout) {
            Ok(answer) => Ok(answer),
            Err(f) => {
                worker.take().expect("started").kill();
                Err(f)
            }
        }
    }

    fn decode_one(&self, worker: &mut Option<Worker>, input: &Input<'_>) -> Answer {
        let start = Instant::now();
        let mut answer = if self.persistent {
            let mut req = json!({"case": input.name, "pickle": brine_codec::hex::encode(input.data)});
            if let Some(n) = input.buffers.filter(|n| *n > 0) {
                req["buffers"] = json!(n);
            }
            if !input.extensions.is_empty() {
                req["extensions"] = extensions_json(input.extensions);
            }
            match self.ask(worker, &req.to_string()) {
                Ok(line) => {
                    let a = decode_answer(&line, input.name);
                    if matches!(a.outcome, Outcome::Crashed(_)) {
                        // A garbled or misnumbered answer: the stream can no longer be trusted.
                        if let Some(w) = worker.take() {
                            w.kill();
                        }
                    }
                    a
                }
                Err(f) => f.answer(&self.limits),
            }
        } else {
            let mut env = vec![("BRINE_CASE", input.name.to_string())];
            if let Some(n) = input.buffers.filter(|n| *n > 0) {
                env.push(("BRINE_BUFFERS", n.to_string()));
            }
            if !input.extensions.is_empty() {
                env.push(("BRINE_EXTENSIONS", extensions_json(input.extensions).to_string()));
            }
            let out = process::run(&self.cmd, &self.root, input.data, &env, &self.limits);
            let mut a = match out.exit {
                Exit::Timeout => Failure::Timeout.answer(&self.limits),
                Exit::Code(c @ (0 | 1)) => {
                    let node = match read_node(&out.stdout) {
                        Ok(n) => n,
                        Err(why) => return crashed(format!("exit {c} but {why}"), &out.stderr_line(), start),
                    };
                    Answer::of(outcome_of(c.into(), node))
                }
                _ => Answer::of(Outcome::Crashed(out.describe())),
            };
            a.detail = out.stderr_line();
            if let Outcome::Crashed(d) = &mut a.outcome {
                if !a.detail.is_empty() {
                    *d = format!("{d}; stderr: {}", a.detail);
                }
            }
            a
        };
        answer.ms = start.elapsed().as_secs_f64() * 1e3;
        answer
    }

    /// Encodes documents through an encoder adapter: `(case name, document, protocol)` in,
    /// the bytes (or why not) out.
    pub fn encode_batch(&self, docs: &[(&str, &J, u8)]) -> Vec<Encoded> {
        self.parallel(docs, |worker, (name, doc, protocol)| {
            let start = Instant::now();
            let result = if self.persistent {
                let req = json!({"case": name, "document": doc, "protocol": protocol}).to_string();
                match self.ask(worker, &req) {
                    Ok(line) => encode_answer(&line, name),
                    Err(Failure::Timeout) => Err(EncodeFailure::Timeout),
                    Err(Failure::Died(d)) => Err(EncodeFailure::Crash(d)),
                }
            } else {
                let env = [("BRINE_CASE", name.to_string()), ("BRINE_PROTOCOL", protocol.to_string())];
                let out = process::run(&self.cmd, &self.root, doc.to_string().as_bytes(), &env, &self.limits);
                match out.exit {
                    Exit::Timeout => Err(EncodeFailure::Timeout),
                    Exit::Code(0) => Ok(out.stdout.clone()),
                    Exit::Code(1) => Err(EncodeFailure::Refused(out.stderr_line())),
                    _ => {
                        let e = out.stderr_line();
                        Err(EncodeFailure::Crash(if e.is_empty() { out.describe() } else { format!("{}; stderr: {e}", out.describe()) }))
                    }
                }
            };
            Encoded { result, ms: start.elapsed().as_secs_f64() * 1e3 }
        })
    }
}

impl Drop for AdapterEngine {
    fn drop(&mut self) {
        for w in self.idle.get_mut().unwrap().drain(..) {
            w.kill();
        }
    }
}

impl Engine for AdapterEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn decode(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        let input = Input { name: "case", data, buffers, extensions: &[] };
        self.run_batch(&[input]).pop().expect("one answer").outcome
    }

    fn run_batch(&self, inputs: &[Input<'_>]) -> Vec<Answer> {
        self.parallel(inputs, |worker, input| self.decode_one(worker, input))
    }
}

/// What an encoder adapter made of one document.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The pickle, or why there is none.
    pub result: Result<Vec<u8>, EncodeFailure>,
    /// Wall time, ms.
    pub ms: f64,
}

/// Why an encoder adapter gave no bytes.
#[derive(Clone, Debug)]
pub enum EncodeFailure {
    /// It declined (exit 1): the document is outside its model. The reason, if given.
    Refused(String),
    /// It died or answered garbage.
    Crash(String),
    /// Out of time.
    Timeout,
}

/// The registry as the protocol's JSON: `[[module, name, code], ...]`.
pub fn extensions_json(ext: &[(String, String, i64)]) -> J {
    J::Array(ext.iter().map(|(m, n, c)| json!([m, n, c])).collect())
}

/// Why a persistent request got no answer.
enum Failure {
    Timeout,
    Died(String),
}

impl Failure {
    fn answer(self, limits: &Limits) -> Answer {
        match self {
            Failure::Timeout => Answer::of(Outcome::Poisoned(Poison::new(
                PoisonKind::Time,
                format!("no answer in {:.0} s", limits.timeout.as_secs_f64()),
            ))),
            Failure::Died(d) => Answer::of(Outcome::Crashed(d)),
        }
    }
}

fn crashed(why: String, stderr: &str, start: Instant) -> Answer {
    let mut a = Answer::of(Outcome::Crashed(if stderr.is_empty() { why } else { format!("{why}; stderr: {stderr}") }));
    a.detail = stderr.to_string();
    a.ms = start.elapsed().as_secs_f64() * 1e3;
    a
}

/// stdout of a per-case run: nothing, or one pickle JSON node.
fn read_node(stdout: &[u8]) -> Result<Option<J>, String> {
    let text = String::from_utf8_lossy(stdout);
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match parse_deep(t) {
        Ok(v) if v.get("t").and_then(J::as_str).is_some() => Ok(Some(v)),
        Ok(_) => Err("stdout is JSON but not a pickle JSON node".into()),
        Err(e) => Err(format!("stdout is not one JSON node: {e}")),
    }
}

/// The outcome of an exit status 0 or 1 with what was printed.
fn outcome_of(exit: i64, node: Option<J>) -> Outcome {
    let is_error = |n: &J| n.get("t").and_then(J::as_str) == Some("error");
    match (exit, node) {
        (0, None) => Outcome::Accepted,
        (0, Some(n)) if !is_error(&n) => Outcome::Ok(n),
        (_, Some(n)) if is_error(&n) => Outcome::Err {
            class: n.get("type").and_then(J::as_str).unwrap_or("").to_string(),
            message: n.get("message").and_then(J::as_str).unwrap_or("").to_string(),
        },
        _ => Outcome::Err { class: String::new(), message: String::new() },
    }
}

/// Parses a persistent decoder's answer line.
fn decode_answer(line: &str, case: &str) -> Answer {
    let v = match parse_deep(line.trim()) {
        Ok(v) => v,
        Err(e) => return Answer::of(Outcome::Crashed(format!("answer is not JSON: {e}"))),
    };
    if v.get("case").and_then(J::as_str) != Some(case) {
        return Answer::of(Outcome::Crashed(format!("answer names case {:?}, not {case:?}", v.get("case"))));
    }
    let exit = match v.get("exit").and_then(J::as_i64) {
        Some(e @ (0 | 1)) => e,
        other => return Answer::of(Outcome::Crashed(format!("answer has exit {other:?}"))),
    };
    let node = match v.get("node") {
        None | Some(J::Null) => None,
        Some(n) if n.get("t").and_then(J::as_str).is_some() => Some(n.clone()),
        Some(_) => return Answer::of(Outcome::Crashed("answer's node is not a pickle JSON node".into())),
    };
    let globals = v.get("globals").and_then(J::as_array).map(|a| {
        a.iter()
            .filter_map(|g| Some((g.get(0)?.as_str()?.to_string(), g.get(1)?.as_str()?.to_string())))
            .collect()
    });
    let verdict = v.get("verdict").and_then(J::as_str).and_then(ScanVerdict::parse);
    Answer { outcome: outcome_of(exit, node), globals, verdict, ms: 0.0, detail: String::new() }
}

fn encode_answer(line: &str, case: &str) -> Result<Vec<u8>, EncodeFailure> {
    let v: J = serde_json::from_str(line.trim()).map_err(|e| EncodeFailure::Crash(format!("answer is not JSON: {e}")))?;
    if v.get("case").and_then(J::as_str) != Some(case) {
        return Err(EncodeFailure::Crash(format!("answer names case {:?}, not {case:?}", v.get("case"))));
    }
    match v.get("exit").and_then(J::as_i64) {
        Some(0) => match v.get("pickle").and_then(J::as_str).and_then(|h| brine_codec::hex::decode(h).ok()) {
            Some(b) => Ok(b),
            None => Err(EncodeFailure::Crash("exit 0 without a hex pickle".into())),
        },
        Some(1) => Err(EncodeFailure::Refused(v.get("message").and_then(J::as_str).unwrap_or("").to_string())),
        other => Err(EncodeFailure::Crash(format!("answer has exit {other:?}"))),
    }
}

/// One persistent adapter process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// Answer lines from the reader thread; `None` at end-of-file.
    lines: Receiver<Option<String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Worker {
    fn start(cmd: &str, root: &Path, limits: &Limits) -> Result<Worker, String> {
        let script = if limits.memory_mb > 0 {
            format!("ulimit -v {} 2>/dev/null; exec /bin/sh -c \"$1\"", limits.memory_mb * 1024)
        } else {
            "exec /bin/sh -c \"$1\"".to_string()
        };
        let mut child = Command::new("/bin/sh")
            .args(["-c", &script, "brine-adapter", cmd])
            .current_dir(root)
            .env("BRINE_PERSISTENT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("could not start {cmd}: {e}"))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(1 << 20, stdout);
            loop {
                let mut line = String::new();
                // An answer is one line, read at most MAX_ANSWER bytes of.
                match (&mut r).take(MAX_ANSWER).read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        break;
                    }
                    Ok(_) if !line.ends_with('\n') && line.len() as u64 >= MAX_ANSWER => {
                        let _ = tx.send(Some(OVERSIZED.to_string()));
                        break;
                    }
                    Ok(_) => {
                        if tx.send(Some(line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap();
                t.extend_from_slice(&buf[..n]);
                if t.len() > 2 * process::MAX_STDERR {
                    let cut = t.len() - process::MAX_STDERR;
                    t.drain(..cut);
                }
            }
        });
        Ok(Worker { child, stdin, lines, stderr })
    }

    fn ask(&mut self, line: &str, timeout: Duration) -> Result<String, Failure> {
        self.stderr.lock().unwrap().clear();
        let mut msg = String::with_capacity(line.len() + 1);
        msg.push_str(line);
        msg.push('\n');
        if let Err(e) = self.stdin.write_all(msg.as_bytes()).and_then(|_| self.stdin.flush()) {
            return Err(Failure::Died(self.death(&format!("stdin closed ({e})"))));
        }
        match self.lines.recv_timeout(timeout) {
            Ok(Some(answer)) if answer == OVERSIZED => {
                Err(Failure::Died(self.death(&format!("answered with more than {} MiB on one line", MAX_ANSWER >> 20))))
            }
            Ok(Some(answer)) => Ok(answer),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => Err(Failure::Died(self.death("exited without answering"))),
            Err(RecvTimeoutError::Timeout) => Err(Failure::Timeout),
        }
    }

    /// How the process ended (waiting briefly for its status), with its stderr tail.
    fn death(&mut self, what: &str) -> String {
        let mut status = None;
        for _ in 0..200 {
            if let Ok(Some(st)) = self.child.try_wait() {
                status = Some(st);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let how = match status {
            Some(st) => {
                use std::os::unix::process::ExitStatusExt;
                match (st.code(), st.signal()) {
                    (Some(c), _) => format!("exit {c}"),
                    (_, Some(s)) => format!("signal {s}"),
                    _ => "ended".into(),
                }
            }
            None => "still running".into(),
        };
        std::thread::sleep(Duration::from_millis(20)); // let the stderr reader catch up
        let err = String::from_utf8_lossy(&self.stderr.lock().unwrap()).to_string();
        let tail = process::stderr_summary(&err);
        if tail.is_empty() {
            format!("{what}: {how}")
        } else {
            format!("{what}: {how}; stderr: {tail}")
        }
    }

    fn kill(mut self) {
        process::kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(cmd: &str, persistent: bool) -> AdapterEngine {
        let limits = Limits { timeout: Duration::from_millis(1500), memory_mb: 0 };
        AdapterEngine::new("t", cmd, Path::new("/"), persistent, limits, 1)
    }

    fn inputs(names: &[&'static str]) -> Vec<Input<'static>> {
        names.iter().map(|n| Input::new(n, b"N.")).collect()
    }

    /// A persistent adapter in shell: answers by the case's name; `crash` exits, `hang`
    /// sleeps, `garble` prints a non-JSON line.
    const SH_ADAPTER: &str = r#"while read -r line; do
      case "$line" in
        *'"crash'*) exit 3 ;;
        *'"hang'*) sleep 30 ;;
        *'"garble'*) echo 'not json' ;;
        *'"flood'*) yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | tr -d '\n' ;;
        *'"reject'*) c=${line#*\"case\":\"}; c=${c%%\"*}; echo "{\"case\":\"$c\",\"exit\":1,\"node\":{\"t\":\"error\",\"type\":\"EOFError\",\"message\":\"\"}}" ;;
        *) c=${line#*\"case\":\"}; c=${c%%\"*}; echo "{\"case\":\"$c\",\"exit\":0,\"node\":{\"t\":\"none\"},\"globals\":[[\"os\",\"system\"]],\"verdict\":\"clean\"}" ;;
      esac
    done"#;

    #[test]
    fn persistent_failures_cost_one_case() {
        let e = engine(SH_ADAPTER, true);
        let names = ["a", "crash1", "b", "hang1", "c", "garble1", "d", "reject1", "e"];
        let got: Vec<Outcome> = e.run_batch(&inputs(&names)).into_iter().map(|a| a.outcome).collect();
        let ok = Outcome::Ok(json!({"t": "none"}));
        assert_eq!(got[0], ok);
        assert!(matches!(&got[1], Outcome::Crashed(d) if d.contains("exit 3")), "{:?}", got[1]);
        assert_eq!(got[2], ok);
        assert!(matches!(&got[3], Outcome::Poisoned(p) if p.kind == PoisonKind::Time));
        assert_eq!(got[4], ok);
        assert!(matches!(&got[5], Outcome::Crashed(_)));
        assert_eq!(got[6], ok);
        assert_eq!(got[7].error_class(), Some("EOFError"));
        assert_eq!(got[8], ok);
        // One worker, restarted after the crash, the timeout and the garbled line.
        assert_eq!(e.starts(), 1 + 3);
        // An endless answer line is cut at MAX_ANSWER: a crash with that reason, then the
        // next case is answered by a fresh worker.
        let flood: Vec<Outcome> = e.run_batch(&inputs(&["flood1", "f"])).into_iter().map(|a| a.outcome).collect();
        assert!(matches!(&flood[0], Outcome::Crashed(d) if d.contains("MiB on one line")), "{:?}", flood[0]);
        assert_eq!(flood[1], ok);
        let a = e.run_batch(&inputs(&["x"])).pop().unwrap();
        assert_eq!(a.globals, Some(vec![("os".into(), "system".into())]));
        assert_eq!(a.verdict, Some(ScanVerdict::Clean));
    }

    #[test]
    fn per_case_statuses() {
        let cases = [
            (r#"cat >/dev/null; echo '{"t":"int","v":"1"}'"#, "ok"),
            ("cat >/dev/null", "accepted"),
            (r#"cat >/dev/null; echo '{"t":"error","type":"ValueError"}'; exit 1"#, "ValueError"),
            ("exit 1", ""),
            ("echo nope", "crash"),
            ("kill -SEGV $$", "crash"),
        ];
        for (cmd, want) in cases {
            let o = engine(cmd, false).decode(b"N.", None);
            let got = match &o {
                Outcome::Ok(_) => "ok".to_string(),
                Outcome::Accepted => "accepted".into(),
                Outcome::Err { class, .. } => class.clone(),
                Outcome::Crashed(_) => "crash".into(),
                Outcome::Poisoned(_) => "poisoned".into(),
            };
            assert_eq!(got, want, "{cmd}: {o:?}");
        }
    }
}
