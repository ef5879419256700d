//! The committed matrix (docs/matrix.html and docs/matrix.md) holds exactly one row per
//! implementation under conformance/adapters, one column per implementation in the per-case
//! table, and the legend of every status: an adapter added without rerunning
//! `cargo xtask matrix`, or a renderer that drops a row or the legend, fails here.

use brine_harness::impls::matrix;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn adapter_names() -> Vec<String> {
    let names: Vec<String> = matrix::adapters(&root()).expect("conformance/adapters").into_iter().map(|a| a.name).collect();
    assert!(names.len() >= 20, "only {} adapters", names.len());
    names
}

/// The values of `attr="..."` in order of appearance.
fn attr_values<'a>(html: &'a str, prefix: &str) -> Vec<&'a str> {
    html.split(prefix).skip(1).map(|r| &r[..r.find('"').expect("closing quote")]).collect()
}

#[test]
fn html_has_one_summary_row_and_one_column_per_implementation() {
    let html = std::fs::read_to_string(root().join("docs/matrix.html")).expect("docs/matrix.html");
    let want = adapter_names();
    let rows = attr_values(&html, "<tr data-impl=\"");
    assert_eq!(rows, want, "summary rows (in adapter order) against conformance/adapters");
    let columns = html.matches("<th class=\"impl\">").count();
    assert_eq!(columns, want.len(), "per-case table columns");
    // Every per-case row has a cell for each implementation.
    let table = &html[html.find("<div class=\"wide cases\">").expect("per-case table")..];
    for row in table.split("<tr><td class=\"n\">").skip(1) {
        let row = &row[..row.find("</tr>").expect("row end")];
        assert_eq!(row.matches("<td").count(), want.len(), "cells of {}", &row[..row.find('<').unwrap_or(0)]);
    }
    assert!(html.contains("<meta name=\"viewport\""), "no viewport: phones render the desktop width");
}

#[test]
fn html_has_the_legend_of_every_status() {
    let html = std::fs::read_to_string(root().join("docs/matrix.html")).expect("docs/matrix.html");
    let legend = &html[html.find("<p class=\"legend\">").expect("legend paragraph")..];
    let legend = &legend[..legend.find("</p>").expect("legend end")];
    let shown: Vec<&str> = attr_values(legend, "data-status=\"");
    let want: Vec<&str> = matrix::STATUSES.to_vec();
    assert_eq!(shown, want);
    // Each status the cells use is explained: every cell class s0..sN has a legend entry.
    let used: BTreeSet<usize> = html
        .split("<td class=s")
        .skip(1)
        .map(|r| r[..r.find(|c: char| !c.is_ascii_digit()).unwrap()].parse::<usize>().expect("status index"))
        .collect();
    assert!(used.iter().all(|k| *k < want.len()), "cells use a status outside the legend: {used:?}");
}

#[test]
fn markdown_has_one_decoding_row_per_implementation() {
    let md = std::fs::read_to_string(root().join("docs/matrix.md")).expect("docs/matrix.md");
    let decoding = &md[md.find("## Decoding").expect("## Decoding")..];
    let table: Vec<&str> = decoding.lines().skip_while(|l| !l.starts_with("| implementation")).skip(2).take_while(|l| l.starts_with('|')).collect();
    let rows: Vec<&str> = table.iter().map(|l| l.split('|').nth(1).unwrap().trim()).collect();
    assert_eq!(rows, adapter_names());
    // Each row names its version (pinned) and language.
    for l in table {
        let cols: Vec<&str> = l.split('|').map(str::trim).collect();
        assert!(!cols[2].is_empty() && !cols[3].is_empty(), "version or language missing: {l}");
    }
}
