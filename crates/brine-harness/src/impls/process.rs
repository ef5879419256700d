//! Running one adapter command on one input.
//!
//! The command is a shell string run by `/bin/sh -c` in the workspace root, in a process group
//! of its own (so that a timeout kills whatever the adapter started), under `ulimit -v` when a
//! memory limit is set, with the input on stdin and stdout/stderr captured.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Limits of one adapter run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wall time before the process group is killed.
    pub timeout: Duration,
    /// Address-space limit (`ulimit -v`), MiB; 0 for none.
    pub memory_mb: u64,
}

/// How an adapter run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It ran out of time and was killed.
    Timeout,
    /// It could not be started.
    NotStarted(String),
}

/// What an adapter run produced.
#[derive(Clone, Debug)]
pub struct Output {
    /// How it ended.
    pub exit: Exit,
    /// Its stdout (up to [`MAX_STDOUT`]).
    pub stdout: Vec<u8>,
    /// The last [`MAX_STDERR`] bytes of its stderr.
    pub stderr: Vec<u8>,
    /// Wall time.
    pub elapsed: Duration,
}

/// stdout beyond this is dropped (the largest corpus document is a few MiB).
pub const MAX_STDOUT: usize = 256 << 20;
/// Only the tail of stderr is kept.
pub const MAX_STDERR: usize = 16 << 10;

/// Whether a stderr line is where a crash says what it was: a Go or Rust panic, a fatal
/// runtime error, a Python or Java exception, a sanitizer's report.
fn is_headline(l: &str) -> bool {
    let l = l.trim_start();
    l.starts_with("panic:")
        || l.starts_with("fatal error:")
        || (l.starts_with("thread '") && l.contains("panicked"))
        || l.starts_with("Exception in thread")
        || l.starts_with("==") && l.contains("ERROR:")
        || l.split(':').next().is_some_and(|w| !w.contains(' ') && (w.ends_with("Error") || w.ends_with("Exception")))
}

/// A process's stderr as one line for reports: its last three non-empty lines, after the
/// first headline line ([`is_headline`]) when that is further up (a Go panic's trace ends
/// in the caller's frames, far below the line that names the panic). At most about 300
/// characters, the headline kept whole.
pub fn stderr_summary(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail_from = lines.len().saturating_sub(3);
    let tail = lines[tail_from..].join(" | ");
    let head = lines[..tail_from].iter().find(|l| is_headline(l)).map(|l| l.trim());
    let clip = |t: &str, n: usize| -> String {
        let count = t.chars().count();
        if count > n {
            format!("...{}", t.chars().skip(count - n.saturating_sub(3)).collect::<String>())
        } else {
            t.to_string()
        }
    };
    match head {
        Some(h) => {
            let h: String = h.chars().take(200).collect();
            format!("{h} | ... | {}", clip(&tail, 300usize.saturating_sub(h.chars().count()).max(60)))
        }
        None => clip(&tail, 300),
    }
}

impl Output {
    /// The stderr tail as one line of text, for reports (see [`stderr_summary`]).
    pub fn stderr_line(&self) -> String {
        stderr_summary(&String::from_utf8_lossy(&self.stderr))
    }

    /// "exit 3", "signal 11 (SIGSEGV)", "timeout" ...
    pub fn describe(&self) -> String {
        match &self.exit {
            Exit::Code(c) if *c > 128 && *c < 160 => format!("exit {c} (shell: signal {})", c - 128),
            Exit::Code(c) => format!("exit {c}"),
            Exit::Signal(s) => format!("signal {s}{}", signal_name(*s)),
            Exit::Timeout => "timeout".into(),
            Exit::NotStarted(e) => format!("could not start: {e}"),
        }
    }
}

fn signal_name(s: i32) -> &'static str {
    match s {
        4 => " (SIGILL)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        _ => "",
    }
}

/// Runs `cmd` (a shell string) in `dir` with `input` on stdin and `env` added.
pub fn run(cmd: &str, dir: &Path, input: &[u8], env: &[(&str, String)], limits: &Limits) -> Output {
    let start = Instant::now();
    // The outer shell applies the limit, the inner one runs the command line as given (a
    // simple command is exec'd, so a signal that kills the adapter is seen as one).
    let script = if limits.memory_mb > 0 {
        format!("ulimit -v {} 2>/dev/null; exec /bin/sh -c \"$1\"", limits.memory_mb * 1024)
    } else {
        "exec /bin/sh -c \"$1\"".to_string()
    };
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", &script, "brine-adapter", cmd])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Output {
                exit: Exit::NotStarted(e.to_string()),
                stdout: vec![],
                stderr: vec![],
                elapsed: start.elapsed(),
            }
        }
    };
    let pgid = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let input = input.to_vec();
    // An adapter may exit without reading its input: a broken pipe is not an error here.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let _ = tx.send((0, read_capped(&mut stdout, MAX_STDOUT, false)));
    });
    std::thread::spawn(move || {
        let _ = tx2.send((1, read_capped(&mut stderr, MAX_STDERR, true)));
    });
    let mut nap = Duration::from_micros(200);
    let exit = loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                break st.code().map(Exit::Code).or_else(|| st.signal().map(Exit::Signal)).unwrap_or(Exit::Code(-1))
            }
            Ok(None) => {}
            Err(e) => break Exit::NotStarted(format!("wait: {e}")),
        }
        if start.elapsed() >= limits.timeout {
            kill_group(pgid);
            let _ = child.wait();
            break Exit::Timeout;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(5));
    };
    // The pipes close when the adapter's last process exits. If something it started still
    // holds them, its process group still exists (so the id is still ours): kill it.
    let (mut stdout, mut stderr) = (vec![], vec![]);
    let mut killed = false;
    for _ in 0..2 {
        let got = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(x) => Some(x),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !killed => {
                killed = true;
                kill_group(pgid);
                rx.recv().ok()
            }
            Err(_) => rx.recv().ok(),
        };
        match got {
            Some((0, b)) => stdout = b,
            Some((_, b)) => stderr = b,
            None => break,
        }
    }
    drop(writer); // done, or blocked on an adapter that never read its input: not waited for
    Output { exit, stdout, stderr, elapsed: start.elapsed() }
}

/// Kills the process group `pgid` (SIGKILL).
pub fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Reads to end-of-file, keeping the first `cap` bytes (or the last, with `tail`).
fn read_capped(r: &mut impl Read, cap: usize, tail: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tail {
                    out.extend_from_slice(&buf[..n]);
                    if out.len() > 2 * cap {
                        out.drain(..out.len() - cap);
                    }
                } else if out.len() < cap {
                    let take = n.min(cap - out.len());
                    out.extend_from_slice(&buf[..take]);
                }
            }
        }
    }
    if tail && out.len() > cap {
        out.drain(..out.len() - cap);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_summary_keeps_the_headline() {
        let go = "panic: runtime error: index out of range [0] with length 0\n\ngoroutine 1 [running]:\ngithub.com/x.f(...)\n\t/src/x.go:385\nmain.main()\n\t/adapter/main.go:424 +0x8b1\n";
        let s = stderr_summary(go);
        assert!(s.starts_with("panic: runtime error: index out of range"), "{s}");
        assert!(s.ends_with("main.main() | /adapter/main.go:424 +0x8b1") || s.contains("main.go:424"), "{s}");
        let py = "Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f()\n  File \"a.py\", line 2, in f\nValueError: bad\n";
        // The exception line is among the last three: the tail alone says it.
        assert_eq!(stderr_summary(py), "    f() |   File \"a.py\", line 2, in f | ValueError: bad");
        let rust = "thread 'main' panicked at src/lib.rs:10:5:\nattempt to subtract with overflow\nnote: run with `RUST_BACKTRACE=1`\nstack backtrace:\n   0: x\n   1: y\n";
        assert!(stderr_summary(rust).starts_with("thread 'main' panicked at src/lib.rs:10:5:"), "{}", stderr_summary(rust));
        assert_eq!(stderr_summary("one\ntwo\n"), "one | two");
        assert!(stderr_summary(&"x".repeat(1000)).chars().count() <= 300);
    }

    fn go(cmd: &str, input: &[u8], timeout_ms: u64) -> Output {
        let limits = Limits { timeout: Duration::from_millis(timeout_ms), memory_mb: 1024 };
        run(cmd, Path::new("/"), input, &[("BRINE_X", "7".into())], &limits)
    }

    #[test]
    fn exits_signals_and_timeouts() {
        let o = go("cat; echo \"$BRINE_X\" >&2", b"abc", 5000);
        assert_eq!((&o.exit, o.stdout.as_slice(), o.stderr_line().as_str()), (&Exit::Code(0), &b"abc"[..], "7"));
        assert_eq!(go("exit 3", b"", 5000).exit, Exit::Code(3));
        assert_eq!(go("kill -SEGV $$", b"", 5000).exit, Exit::Signal(11));
        let t = Instant::now();
        // A child that keeps the pipes open dies with the group.
        assert_eq!(go("sleep 30 & sleep 30", b"", 300).exit, Exit::Timeout);
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
