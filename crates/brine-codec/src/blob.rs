//! [`Blob`]: immutable bytes kept inline when short, or shared with the input.
//!
//! Most strs and bytes a pickle holds are short (names, keys, words), and one heap
//! allocation each would cost more than everything else the decoder does for them: a malloc
//! and a free, a pointer to chase, and memory touched for the first time (page faults). Up to
//! [`Blob::INLINE`] bytes live inside the value itself, which is 24 bytes either way.
//!
//! Long bytes can instead be a window into a [`Source`], the reference-counted input of
//! [`crate::decode::decode_shared`]: a 64 MiB BINBYTES8 then costs nothing to decode. The
//! window keeps the whole input alive, which is why only blobs from a configurable length
//! on are shared.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// Bytes that decoded values may share instead of copying: a pickle read into memory (a
/// `Vec<u8>`, an `Arc<[u8]>`, a memory map...), reference-counted.
///
/// Whatever it wraps must give the same bytes every time it is asked (as every owned buffer
/// and memory map of an unchanging file does); windows into it index those bytes.
#[derive(Clone)]
pub struct Source(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl Source {
    /// Wraps `bytes` (moved, not copied).
    pub fn new<T: AsRef<[u8]> + Send + Sync + 'static>(bytes: T) -> Source {
        Source(Arc::new(bytes))
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({} bytes)", self.as_bytes().len())
    }
}

/// `source[start..start + len]`.
struct Window {
    source: Source,
    start: usize,
    len: usize,
}

/// Immutable bytes: inline up to [`Blob::INLINE`] bytes, else one exact heap allocation or a
/// window into a shared [`Source`] (whose clones share it).
#[derive(Clone)]
pub struct Blob(Repr);

const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
    /// A window into shared bytes: one small allocation however long the window is, and
    /// clones share it.
    Shared(Arc<Window>),
}

// A Blob must stay the size of a fat pointer plus a word, so that `Obj` stays 32 bytes.
const _: () = assert!(std::mem::size_of::<Blob>() == 24);

impl Blob {
    /// How many bytes are stored without a heap allocation.
    pub const INLINE: usize = INLINE;

    /// A copy of `b`.
    #[inline]
    pub fn new(b: &[u8]) -> Blob {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Blob(Repr::Inline { len: b.len() as u8, buf })
        } else {
            Blob(Repr::Heap(b.into()))
        }
    }

    /// `source[start..start + len]`, shared rather than copied (a copy when it is short
    /// enough to go inline). `None` when the range is not within the source.
    pub fn shared(source: &Source, start: usize, len: usize) -> Option<Blob> {
        let bytes = source.as_bytes().get(start..start.checked_add(len)?)?;
        if len <= INLINE {
            return Some(Blob::new(bytes));
        }
        Some(Blob(Repr::Shared(Arc::new(Window { source: source.clone(), start, len }))))
    }

    /// Whether the bytes are a window into a [`Source`] (see [`Blob::shared`]).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }

    /// The first `len` bytes of `window` (`len` at most [`Blob::INLINE`]), read as one
    /// fixed-size block. Cheaper than [`Blob::new`] for short bytes inside a longer buffer
    /// (a pickle): a copy of unknown length goes through memory, and reading it back at
    /// once stalls.
    #[inline]
    pub fn from_window(window: &[u8; INLINE], len: usize) -> Blob {
        assert!(len <= INLINE);
        // Bytes 0..16 and 16..22 as integers, with the bytes past `len` masked off.
        let lo = u128::from_le_bytes(window[..16].try_into().expect("16 bytes"));
        let hi = u64::from_le_bytes(window[INLINE - 8..].try_into().expect("8 bytes")) >> (8 * (24 - INLINE));
        let lo_mask = if len >= 16 { u128::MAX } else { (1u128 << (8 * len)) - 1 };
        let hi_mask = (1u64 << (8 * len.saturating_sub(16))) - 1;
        let mut buf = [0u8; INLINE];
        buf[..16].copy_from_slice(&(lo & lo_mask).to_le_bytes());
        buf[16..].copy_from_slice(&(hi & hi_mask).to_le_bytes()[..INLINE - 16]);
        Blob(Repr::Inline { len: len as u8, buf })
    }

    /// The inline storage (zero past the length) and the length, when the bytes are
    /// inline: a writer can copy the fixed-size block, which is cheaper than copying a
    /// slice of unknown length.
    #[inline]
    pub(crate) fn inline_block(&self) -> Option<(&[u8; INLINE], usize)> {
        match &self.0 {
            Repr::Inline { len, buf } => Some((buf, *len as usize)),
            Repr::Heap(_) | Repr::Shared(_) => None,
        }
    }

    /// The bytes.
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            _ => self.long_bytes(),
        }
    }

    /// [`Blob::as_bytes`] of a blob too long to be inline: out of line, so that the common,
    /// inline case stays small wherever it is inlined.
    #[inline(never)]
    fn long_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(b) => b,
            // In range: checked by `Blob::shared`, and a source's bytes do not change.
            Repr::Shared(w) => &w.source.as_bytes()[w.start..w.start + w.len],
        }
    }
}

impl Default for Blob {
    fn default() -> Self {
        Blob(Repr::Inline { len: 0, buf: [0; INLINE] })
    }
}

impl Deref for Blob {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Blob {
    fn from(b: &[u8]) -> Self {
        Blob::new(b)
    }
}

impl From<&str> for Blob {
    fn from(s: &str) -> Self {
        Blob::new(s.as_bytes())
    }
}

impl From<Vec<u8>> for Blob {
    /// Keeps the vector's allocation when the bytes are too long to go inline.
    fn from(v: Vec<u8>) -> Self {
        if v.len() <= INLINE {
            Blob::new(&v)
        } else {
            Blob(Repr::Heap(v.into_boxed_slice()))
        }
    }
}

impl From<Box<[u8]>> for Blob {
    fn from(b: Box<[u8]>) -> Self {
        if b.len() <= INLINE {
            Blob::new(&b)
        } else {
            Blob(Repr::Heap(b))
        }
    }
}

impl PartialEq for Blob {
    #[inline]
    fn eq(&self, other: &Blob) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Blob {}

impl PartialEq<[u8]> for Blob {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl Hash for Blob {
    /// Hashes as the byte slice does (so as `Box<[u8]>` and `Vec<u8>` do).
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_bytes().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_hold_the_same_bytes() {
        for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 1000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let a = Blob::new(&v);
            let b = Blob::from(v.clone());
            assert_eq!(&*a, &v[..]);
            assert_eq!(a, b);
            assert_eq!(a.len(), n);
            assert_eq!(matches!(a.0, Repr::Inline { .. }), n <= INLINE);
        }
        assert_ne!(Blob::new(b"ab"), Blob::new(b"abc"));
    }

    #[test]
    fn shared_windows_read_the_source_without_copying() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let source = Source::new(data.clone());
        let long = Blob::shared(&source, 100, 5000).unwrap();
        assert!(long.is_shared());
        assert_eq!(&*long, &data[100..5100]);
        assert_eq!(long, Blob::new(&data[100..5100]));
        // The window points into the source's own allocation.
        assert_eq!(long.as_ptr(), source.as_bytes()[100..].as_ptr());
        let short = Blob::shared(&source, 9990, 10).unwrap();
        assert!(!short.is_shared());
        assert_eq!(&*short, &data[9990..]);
        assert!(Blob::shared(&source, 9990, 11).is_none());
        assert!(Blob::shared(&source, usize::MAX, 2).is_none());
    }

    #[test]
    fn from_window_takes_the_prefix_and_zeroes_the_rest() {
        let window: [u8; INLINE] = std::array::from_fn(|i| 0xA0 + i as u8);
        for n in 0..=INLINE {
            let b = Blob::from_window(&window, n);
            assert_eq!(&*b, &window[..n]);
            let (block, len) = b.inline_block().unwrap();
            assert_eq!(len, n);
            assert!(block[n..].iter().all(|&x| x == 0));
        }
    }
}
