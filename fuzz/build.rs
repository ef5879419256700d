//! Link arguments for the fuzz targets (cargo-fuzz sets RUSTFLAGS itself, so they go here).
//!
//! `$ORIGIN/lib` goes first on the library search path: scripts/oss-fuzz-build.sh puts
//! libpython3.11 there for the fuzzing machines, which have no Python 3.11 of their own.
//! Where that directory is absent (local runs) the loader falls back to the system's
//! libpython, which PyO3 linked against (PYO3_PYTHON, from the root .cargo/config.toml).
fn main() {
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/lib");
    println!("cargo:rerun-if-changed=build.rs");
}
