//! The adapters' side of the bench: how fast each installed adapter answers in persistent
//! mode against one process per case (peers measured in the same run, on the same corpus
//! sample), how many cases per second a campaign against it runs, and the matrix's last wall
//! time. Adapters not installed (no target/adapters/NAME/.installed) are skipped; run
//! `cargo xtask matrix` first. `BRINE_BENCH_ADAPTERS=0` skips this part.

use brine_harness::campaign::{self, CampaignOptions};
use brine_harness::impls::adapter::AdapterEngine;
use brine_harness::impls::{corpus, matrix, process::Limits};
use brine_oracle::engine::{Engine, Input};
use serde_json::{json, Value as J};
use std::path::Path;
use std::time::{Duration, Instant};

/// One adapter's figures.
pub struct AdapterRow {
    pub name: String,
    pub persistent_cps: f64,
    pub per_case_cps: f64,
    pub campaign_cps: f64,
    pub campaign_cases: u64,
}

/// Measures every installed adapter; `None` when skipped.
pub fn measure(root: &Path) -> Option<(Vec<AdapterRow>, Option<J>)> {
    if std::env::var("BRINE_BENCH_ADAPTERS").as_deref() == Ok("0") {
        return None;
    }
    let corpus = corpus::load(root).ok()?;
    let limits = Limits { timeout: Duration::from_secs(10), memory_mb: 4096 };
    let sample: Vec<Input<'_>> = corpus.cases.iter().step_by(4).map(|c| c.input()).collect();
    let small: Vec<Input<'_>> = corpus.cases.iter().step_by(40).map(|c| c.input()).collect();
    let mut rows = vec![];
    for a in matrix::adapters(root).ok()? {
        if !root.join("target/adapters").join(&a.name).join(".installed").is_file() {
            eprintln!("bench: adapter {} not installed (cargo xtask matrix installs it): skipped", a.name);
            continue;
        }
        if a.meta.get("persistent").and_then(J::as_bool) != Some(true) {
            continue;
        }
        eprintln!("bench adapter {}", a.name);
        let cmd = a.dir.join("run").display().to_string();
        let persistent = AdapterEngine::new(&a.name, &cmd, root, true, limits.clone(), 2);
        persistent.run_batch(&sample[..8.min(sample.len())]); // start the processes
        let t = Instant::now();
        persistent.run_batch(&sample);
        let persistent_cps = sample.len() as f64 / t.elapsed().as_secs_f64();
        drop(persistent);
        let per_case = AdapterEngine::new(&a.name, &cmd, root, false, limits.clone(), 2);
        let t = Instant::now();
        per_case.run_batch(&small);
        let per_case_cps = small.len() as f64 / t.elapsed().as_secs_f64();
        let o = CampaignOptions {
            adapter: a.name.clone(),
            time: Duration::from_secs(30),
            max_cases: Some(4096),
            per_kind: 1,
            minimize_budget: 300,
            out: Some(root.join("target/bench/campaigns").join(&a.name)),
            progress: false,
            ..Default::default()
        };
        let (campaign_cps, campaign_cases) = match campaign::run(root, &o) {
            Ok(r) => (r.cases_per_s(), r.cases),
            Err(e) => {
                eprintln!("bench: campaign against {}: {e}", a.name);
                (0.0, 0)
            }
        };
        rows.push(AdapterRow { name: a.name.clone(), persistent_cps, per_case_cps, campaign_cps, campaign_cases });
    }
    let last_matrix = std::fs::read_to_string(root.join("target/matrix/last-run.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
    Some((rows, last_matrix))
}

/// The markdown section and its JSON.
pub fn report(rows: &[AdapterRow], last_matrix: &Option<J>) -> (String, J) {
    let mut md = String::from(
        "\nAdapters (corpus cases/s; persistent = one process per worker, JSON lines; per case = one process per case; \
         2 workers each; campaign = cases/s of `brine campaign` running time, codec judging every case):\n\n\
         | adapter | persistent | per case | persistent/per case | campaign | campaign cases |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {:.0} | {:.1} | {:.0}x | {:.0} | {} |\n",
            r.name,
            r.persistent_cps,
            r.per_case_cps,
            r.persistent_cps / r.per_case_cps.max(1e-9),
            r.campaign_cps,
            r.campaign_cases
        ));
    }
    match last_matrix {
        Some(m) => md.push_str(&format!(
            "\nLast `cargo xtask matrix` ({}): {:.1} s wall time for {} (one process per case before the persistent protocol: 414 s).\n",
            m["date"].as_str().unwrap_or("?"),
            m["elapsed_s"].as_f64().unwrap_or(0.0),
            if m["only"].is_null() { "every adapter".to_string() } else { format!("{}", m["only"]) }
        )),
        None => md.push_str("\nNo matrix run recorded yet (target/matrix/last-run.json): run `cargo xtask matrix`.\n"),
    }
    let j = json!({
        "adapters": rows.iter().map(|r| json!({"adapter": r.name, "persistent_cases_per_s": r.persistent_cps,
            "per_case_cases_per_s": r.per_case_cps, "campaign_cases_per_s": r.campaign_cps, "campaign_cases": r.campaign_cases})).collect::<Vec<_>>(),
        "last_matrix": last_matrix,
    });
    (md, j)
}
