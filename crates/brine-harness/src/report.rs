//! Reports of a conformance run: a terminal summary with the coverage table, a JSON
//! report for machines, and a markdown report with an SVG heatmap of the coverage and
//! every disagreement with its diff and a one-line command to reproduce it.

use crate::coverage::{Coverage, CANNOT_FAIL, PROTOCOLS};
use crate::{Finding, RunReport};
use brine_codec::opcodes::{HIGHEST_PROTOCOL, OPCODES};
use serde_json::{json, Value as J};
use std::fmt::Write;

/// The coverage table for the terminal: one row per opcode, success/error counts per protocol.
pub fn coverage_table(c: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<17} {:>5}  success by protocol 0..{HIGHEST_PROTOCOL}          | errors by protocol 0..{HIGHEST_PROTOCOL}",
        "opcode", "proto"
    );
    for (i, info) in OPCODES.iter().enumerate() {
        let cell = |n: u64, exists: bool| {
            if !exists {
                "    -".to_string()
            } else if n == 0 {
                "  ---".to_string()
            } else {
                format!("{:>5}", compact(n))
            }
        };
        let s: String = (0..=HIGHEST_PROTOCOL).map(|p| cell(c.success[i][p as usize], p >= info.proto)).collect::<Vec<_>>().join(" ");
        let can_fail = !CANNOT_FAIL.contains(&info.name);
        let e: String = (0..=HIGHEST_PROTOCOL)
            .map(|p| if can_fail { cell(c.error_count(i, p), p >= info.proto) } else { "    .".to_string() })
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(out, "{:<17} {:>5}  {} | {}", info.name, info.proto, s, e);
    }
    let (s, e) = c.ratios();
    let _ = writeln!(
        out,
        "success cells reached: {:.1}%  failable opcodes seen failing: {:.1}%  ('---' never reached, '-' not in protocol, '.' cannot fail)",
        s * 100.0,
        e * 100.0
    );
    out
}

fn compact(n: u64) -> String {
    match n {
        0..=9999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// An SVG heatmap: opcodes down, protocols across, success panel and error panel.
pub fn coverage_svg(c: &Coverage) -> String {
    let (cw, ch, left, top) = (34, 14, 130, 40);
    let n = OPCODES.len();
    let width = left + 2 * PROTOCOLS * cw + 40;
    let height = top + n * ch + 30;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="10">"#
    );
    let _ = write!(s, r#"<text x="{left}" y="14" font-size="12">success paths</text>"#);
    let _ = write!(s, r#"<text x="{}" y="14" font-size="12">error paths</text>"#, left + PROTOCOLS * cw + 20);
    for panel in 0..2 {
        let x0 = left + panel * (PROTOCOLS * cw + 20);
        for p in 0..PROTOCOLS {
            let _ = write!(s, r#"<text x="{}" y="32">p{p}</text>"#, x0 + p * cw + 8);
        }
        for (i, info) in OPCODES.iter().enumerate() {
            let y = top + i * ch;
            if panel == 0 {
                let _ = write!(s, r#"<text x="4" y="{}">{}</text>"#, y + 10, info.name);
            }
            for p in 0..=HIGHEST_PROTOCOL {
                let x = x0 + p as usize * cw;
                let exists = p >= info.proto;
                let can_fail = panel == 0 || !CANNOT_FAIL.contains(&info.name);
                let count = if panel == 0 { c.success[i][p as usize] } else { c.error_count(i, p) };
                let (fill, label) = if !exists || !can_fail {
                    ("#eeeeee", String::new())
                } else if count == 0 {
                    ("#d73027", "0".to_string())
                } else {
                    // Log scale from pale to dark green.
                    let t = ((count as f64).log10() / 6.0).min(1.0);
                    let g = (230.0 - 140.0 * t) as u8;
                    let r = (200.0 - 170.0 * t) as u8;
                    return_fill(&mut s, x, y, cw, ch, r, g, &compact(count), info.name, p, count);
                    continue;
                };
                let _ = write!(
                    s,
                    r#"<rect x="{x}" y="{y}" width="{}" height="{}" fill="{fill}"><title>{} p{p}: {}</title></rect><text x="{}" y="{}" fill="white">{label}</text>"#,
                    cw - 1,
                    ch - 1,
                    info.name,
                    if exists { count.to_string() } else { "not in protocol".into() },
                    x + 3,
                    y + 10
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

#[allow(clippy::too_many_arguments)]
fn return_fill(s: &mut String, x: usize, y: usize, cw: usize, ch: usize, r: u8, g: u8, label: &str, name: &str, p: u8, count: u64) {
    let _ = write!(
        s,
        r#"<rect x="{x}" y="{y}" width="{}" height="{}" fill="rgb({r},{g},90)"><title>{name} p{p}: {count}</title></rect><text x="{}" y="{}">{label}</text>"#,
        cw - 1,
        ch - 1,
        x + 2,
        y + 10
    );
}

fn finding_json(f: &Finding) -> J {
    json!({"check": f.check, "case": f.case, "regression": f.regression, "summary": f.summary,
           "diff": f.diff, "pickle": f.pickle_hex, "repro": f.repro})
}

/// The machine-readable report.
pub fn to_json(r: &RunReport) -> J {
    let cov: Vec<J> = OPCODES
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let errs: Vec<J> = (0..=HIGHEST_PROTOCOL)
                .map(|p| json!(r.coverage.errors.get(&(i, p)).cloned().unwrap_or_default()))
                .collect();
            json!({"opcode": info.name, "byte": info.code.0, "proto": info.proto,
                   "success": r.coverage.success[i], "errors": errs})
        })
        .collect();
    let (s, e) = r.coverage.ratios();
    json!({
        "interpreter": r.interpreter,
        "seed": r.seed,
        "elapsed_s": r.elapsed_s,
        "phases": r.phases,
        "checks": r.checks,
        "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "poisoned": r.poisoned,
        "coverage": {"opcodes": cov, "success_ratio": s, "error_ratio": e,
                     "missing_success": r.coverage.missing_success(), "missing_error": r.coverage.missing_error()},
        "regressions": r.regressions(),
    })
}

/// The human report in markdown (the SVG sits beside it as coverage.svg).
pub fn to_markdown(r: &RunReport) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# brine conformance report\n");
    let _ = writeln!(m, "- interpreter: `{}`\n- seed: {}\n- elapsed: {:.1} s\n- regressions: **{}**\n", r.interpreter, r.seed, r.elapsed_s, r.regressions());
    let _ = writeln!(m, "## Checks\n\n| check | cases | agree | disagree | poisoned |\n|---|---:|---:|---:|---:|");
    for (name, c) in &r.checks {
        let _ = writeln!(m, "| {name} | {} | {} | {} | {} |", c.cases, c.agree, c.disagree, c.poisoned);
    }
    let _ = writeln!(m, "\n## Opcode coverage\n\n![coverage heatmap](coverage.svg)\n");
    let miss = r.coverage.missing_success();
    let _ = writeln!(m, "Never reached on a success path: {}\n", if miss.is_empty() { "none".into() } else { format!("{miss:?}") });
    let miss = r.coverage.missing_error();
    let _ = writeln!(m, "Never seen failing: {}\n", if miss.is_empty() { "none".into() } else { format!("{miss:?}") });
    let _ = writeln!(m, "<details><summary>table</summary>\n\n```\n{}```\n</details>\n", coverage_table(&r.coverage));
    for (title, regression) in [("Disagreements (regressions)", true), ("Findings (C vs pure-Python, limits)", false)] {
        let fs: Vec<&Finding> = r.findings.iter().filter(|f| f.regression == regression).collect();
        let _ = writeln!(m, "## {title}: {}\n", fs.len());
        for f in fs.iter().take(200) {
            let _ = writeln!(m, "### {} `{}`\n\n{}\n\nReproduce: `{}`\n", f.check, f.case, f.summary, f.repro);
            if !f.diff.is_empty() {
                let _ = writeln!(m, "```diff\n{}\n```\n", f.diff.trim_end());
            }
        }
        if fs.len() > 200 {
            let _ = writeln!(m, "... and {} more (see report.json)\n", fs.len() - 200);
        }
    }
    let _ = writeln!(m, "## Poisoned comparisons: {}\n", r.poisoned.len());
    let _ = writeln!(m, "Skipped, not failed: an engine hit a resource limit (CPython's MemoryError or RecursionError, a time limit, an oracle guard that declines to run a pickle that would exhaust memory, or brine's own limits).\n");
    if !r.poisoned.is_empty() {
        let _ = writeln!(m, "| check | case | reason | pickle (hex, first 64 bytes) |\n|---|---|---|---|");
        for p in r.poisoned.iter().take(500) {
            let _ = writeln!(m, "| {} | `{}` | {} | `{}` |", p.check, p.case, p.reason.replace('|', "\\|"), p.pickle_hex);
        }
        if r.poisoned.len() > 500 {
            let _ = writeln!(m, "\n... and {} more (see report.json)", r.poisoned.len() - 500);
        }
    }
    m
}

/// The terminal summary: tallies per check, regressions, C-vs-Python groups, coverage.
pub fn summary(r: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "brine conformance  ({}; seed {}; {:.1} s)", r.interpreter, r.seed, r.elapsed_s);
    let _ = writeln!(s, "{:<14} {:>9} {:>9} {:>9} {:>9}", "check", "cases", "agree", "disagree", "poisoned");
    for (name, c) in &r.checks {
        let _ = writeln!(s, "{:<14} {:>9} {:>9} {:>9} {:>9}", name, c.cases, c.agree, c.disagree, c.poisoned);
    }
    for (p, t) in &r.phases {
        let _ = writeln!(s, "  {p}: {t:.1} s");
    }
    let regs: Vec<&Finding> = r.findings.iter().filter(|f| f.regression).collect();
    let _ = writeln!(s, "\nregressions: {}", regs.len());
    for f in regs.iter().take(20) {
        let _ = writeln!(s, "  [{}] {}: {}\n    reproduce: {}", f.check, f.case, f.summary, f.repro);
    }
    if regs.len() > 20 {
        let _ = writeln!(s, "  ... {} more in target/conformance/report.md", regs.len() - 20);
    }
    let cvp: Vec<&Finding> = r.findings.iter().filter(|f| f.check == "c-vs-python").collect();
    let _ = writeln!(s, "\nCPython C vs pure-Python: {} kinds of difference (one example each; findings, not failures)", cvp.len());
    for f in cvp.iter().take(12) {
        let _ = writeln!(s, "  {}  e.g. {}", f.summary, f.case);
    }
    let _ = writeln!(s, "\nopcode coverage (executions per protocol):\n{}", coverage_table(&r.coverage));
    s
}

/// Writes report.json, report.md and coverage.svg into `dir`.
pub fn write_all(r: &RunReport, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&to_json(r)).unwrap_or_default())?;
    std::fs::write(dir.join("report.md"), to_markdown(r))?;
    std::fs::write(dir.join("coverage.svg"), coverage_svg(&r.coverage))?;
    Ok(())
}

/// The coverage floor checked in at conformance/coverage-floor.json: a drop below it is a
/// regression (returned as a finding).
pub fn check_floor(r: &RunReport, root: &std::path::Path) -> Option<Finding> {
    let text = std::fs::read_to_string(root.join("conformance/coverage-floor.json")).ok()?;
    let floor: J = serde_json::from_str(&text).ok()?;
    let (s, e) = r.coverage.ratios();
    let (fs, fe) = (floor["success_ratio"].as_f64().unwrap_or(0.0), floor["error_ratio"].as_f64().unwrap_or(0.0));
    (s + 1e-9 < fs || e + 1e-9 < fe).then(|| Finding {
        check: "coverage".into(),
        case: "conformance/coverage-floor.json".into(),
        regression: true,
        summary: format!("coverage {:.4}/{:.4} fell below the floor {fs:.4}/{fe:.4}", s, e),
        diff: String::new(),
        pickle_hex: String::new(),
        repro: "cargo xtask conformance".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_comparisons_are_itemized() {
        let mut r = RunReport { coverage: crate::coverage::Coverage::new(), ..Default::default() };
        r.checks.entry("decode".into()).or_default().poisoned = 1;
        r.poisoned.push(crate::Poisoned {
            check: "decode".into(),
            case: "decode/mutations.jsonl:huge_binput".into(),
            reason: "poisoned (MemoryError: memo index 4294967295)".into(),
            pickle_hex: "72ffffffff".into(),
        });
        let j = to_json(&r);
        assert_eq!(j["poisoned"][0]["case"], "decode/mutations.jsonl:huge_binput");
        assert_eq!(j["poisoned"][0]["pickle_hex"], "72ffffffff");
        let m = to_markdown(&r);
        assert!(m.contains("## Poisoned comparisons: 1"));
        assert!(m.contains("| decode | `decode/mutations.jsonl:huge_binput` | poisoned (MemoryError: memo index 4294967295) | `72ffffffff` |"));
        assert_eq!(r.regressions(), 0);
    }
}
