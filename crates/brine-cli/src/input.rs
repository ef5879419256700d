//! Reading a pickle file the cheap way for a one-shot process.
//!
//! A fresh process pays for every page it touches for the first time (about 0.4 ms per MB
//! on this project's machine, more than decoding most of those bytes costs). Reading a
//! file into a new buffer touches as many fresh pages as the file has; mapping it shares
//! the page cache's pages instead. With [`brine_codec::decode_shared`] a long str or bytes
//! then stays a window into the mapping: a 64 MiB BINBYTES8 is decoded without being read.

use brine_codec::Source;
use std::fs::File;
use std::io;

/// Files from this size on are mapped rather than read: below it, a read costs less than
/// setting up and tearing down a mapping.
const MAP_FROM: u64 = 256 * 1024;

/// The bytes of `path` as a [`Source`]: a private read-only memory map of a big regular
/// file, or its bytes read into memory.
///
/// A map reads the file as it is when each page is first touched, so the file must not
/// change while brine runs: one rewritten meanwhile can show a kept window bytes other than
/// those decoded, and one truncated makes the process fail with SIGBUS, as with any reader
/// that maps. `BRINE_NO_MMAP=1` reads instead.
pub fn load(path: &str) -> io::Result<Source> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() >= MAP_FROM && std::env::var_os("BRINE_NO_MMAP").is_none() {
        // SAFETY: the mapping is read-only and private; the only hazard is another process
        // truncating or rewriting the file while it is mapped, documented above.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        return Ok(Source::new(map));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    io::Read::read_to_end(&mut &file, &mut bytes)?;
    Ok(Source::new(bytes))
}
