//! Readable diffs of two documents or two opcode listings, for verdicts and reports.
//!
//! Documents are pretty-printed one node per line (atoms such as `{"t":"int","v":"1"}` stay
//! on one line, so a changed value is a one-line change), by an iterative printer whose
//! indentation stops growing at 40 levels: pickles nest 100,000 deep, and serde_json's
//! pretty printer would recurse and write quadratic indentation. Output is capped; the
//! diff itself runs under a deadline (the `similar` crate's Myers diff is O(ND)).

use serde_json::Value as J;
use similar::TextDiff;
use std::time::Duration;

/// Most lines rendered per document (the rest is elided).
pub const MAX_LINES: usize = 20_000;
/// Most lines of diff text kept.
pub const MAX_DIFF_LINES: usize = 200;
/// Lines of context around each change.
pub const CONTEXT: usize = 2;

fn is_atom(v: &J) -> bool {
    match v {
        J::Object(m) => m.values().all(|x| match x {
            J::Array(a) => a.is_empty(),
            J::Object(o) => o.is_empty(),
            _ => true,
        }),
        J::Array(a) => a.is_empty(),
        _ => true,
    }
}

enum Task<'a> {
    Open { key: Option<&'a str>, v: &'a J, depth: usize, comma: bool },
    Close { text: &'static str, depth: usize, comma: bool },
}

/// Pretty-prints a pickle JSON document, one node per line.
pub fn pretty(v: &J) -> String {
    let mut out = String::new();
    let mut lines = 0usize;
    let mut stack = vec![Task::Open { key: None, v, depth: 0, comma: false }];
    let indent = |out: &mut String, d: usize| {
        for _ in 0..d.min(40) {
            out.push_str("  ");
        }
    };
    while let Some(t) = stack.pop() {
        if lines >= MAX_LINES {
            out.push_str("... (document truncated)\n");
            break;
        }
        lines += 1;
        match t {
            Task::Close { text, depth, comma } => {
                indent(&mut out, depth);
                out.push_str(text);
                if comma {
                    out.push(',');
                }
                out.push('\n');
            }
            Task::Open { key, v, depth, comma } => {
                indent(&mut out, depth);
                if let Some(k) = key {
                    out.push_str(&J::String(k.to_string()).to_string());
                    out.push_str(": ");
                }
                if is_atom(v) {
                    out.push_str(&v.to_string());
                    if comma {
                        out.push(',');
                    }
                    out.push('\n');
                    continue;
                }
                match v {
                    J::Object(m) => {
                        out.push_str("{\n");
                        stack.push(Task::Close { text: "}", depth, comma });
                        let n = m.len();
                        for (i, (k, x)) in m.iter().enumerate().rev() {
                            stack.push(Task::Open { key: Some(k), v: x, depth: depth + 1, comma: i + 1 < n });
                        }
                    }
                    J::Array(a) => {
                        out.push_str("[\n");
                        stack.push(Task::Close { text: "]", depth, comma });
                        let n = a.len();
                        for (i, x) in a.iter().enumerate().rev() {
                            stack.push(Task::Open { key: None, v: x, depth: depth + 1, comma: i + 1 < n });
                        }
                    }
                    _ => unreachable!(),
                }
            }
        }
    }
    out
}

/// An opcode-stream array as a listing, one op per line: `pos: OP arg`.
pub fn listing(v: &J) -> String {
    let mut out = String::new();
    for (i, e) in v.as_array().map_or(&[][..], |a| a.as_slice()).iter().enumerate() {
        if i >= MAX_LINES {
            out.push_str("... (listing truncated)\n");
            break;
        }
        if e.get("t").and_then(J::as_str) == Some("error") {
            out.push_str(&format!(
                "{:>6}: raises {}: {}\n",
                e.get("pos").map_or("?".to_string(), |p| p.to_string()),
                e.get("type").and_then(J::as_str).unwrap_or("?"),
                e.get("message").and_then(J::as_str).unwrap_or("")
            ));
            continue;
        }
        let arg = match e.get("arg") {
            None | Some(J::Null) => String::new(),
            Some(a) => format!(" {a}"),
        };
        out.push_str(&format!(
            "{:>6}: {}{}\n",
            e.get("pos").map_or("?".to_string(), |p| p.to_string()),
            e.get("op").and_then(J::as_str).unwrap_or("?"),
            arg
        ));
    }
    out
}

/// Each run of digits replaced by `N`: the same difference at item 3 and at item 7 reads
/// alike, which is how fuzz triage and campaigns deduplicate places and messages.
pub fn blur_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_num = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('N');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

/// A unified diff of two texts, labelled, with [`CONTEXT`] lines of context, capped at
/// [`MAX_DIFF_LINES`] lines.
pub fn unified(a_name: &str, a: &str, b_name: &str, b: &str) -> String {
    let diff = TextDiff::configure().timeout(Duration::from_millis(500)).diff_lines(a, b);
    let text = diff.unified_diff().context_radius(CONTEXT).header(a_name, b_name).to_string();
    let n = text.lines().count();
    if n <= MAX_DIFF_LINES {
        return text;
    }
    let mut out: String = text.lines().take(MAX_DIFF_LINES).flat_map(|l| [l, "\n"]).collect();
    out.push_str(&format!("... ({} more diff lines)\n", n - MAX_DIFF_LINES));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn atoms_on_one_line() {
        let d = json!({"t":"list","items":[{"t":"int","v":"1"},{"t":"str","v":"a"}]});
        let p = pretty(&d);
        assert!(p.contains("\n    {\"t\":\"int\",\"v\":\"1\"},\n"), "{p}");
        let e = json!({"t":"list","items":[{"t":"int","v":"2"},{"t":"str","v":"a"}]});
        let u = unified("codec", &p, "cpython-c", &pretty(&e));
        assert!(u.contains("-    {\"t\":\"int\",\"v\":\"1\"},") && u.contains("+    {\"t\":\"int\",\"v\":\"2\"},"), "{u}");
    }

    #[test]
    fn deep_documents_stay_small() {
        brine_codec::with_big_stack(|| {
            let mut d = json!({"t":"none"});
            for _ in 0..3_000 {
                let mut m = serde_json::Map::new();
                m.insert("t".into(), "list".into());
                m.insert("items".into(), J::Array(vec![d]));
                d = J::Object(m);
            }
            let p = pretty(&d);
            // 5 lines per level plus the innermost, indentation capped at 80 columns
            assert_eq!(p.lines().count(), 5 * 3_000 + 1);
            assert!(p.lines().all(|l| l.len() < 160));
        })
    }
}
