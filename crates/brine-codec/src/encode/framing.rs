//! The output buffer, with protocol 4's framing exactly as the C pickler does it for
//! `pickle.dumps` (`_Pickler_Write`, `_Pickler_CommitFrame`, `_Pickler_OpcodeBoundary`,
//! `_Pickler_write_bytes` in Modules/_pickle.c):
//!
//! - a write that finds no open frame opens one: 9 placeholder bytes, then the data;
//! - at the start of every `save()` call, a frame holding at least [`FRAME_SIZE_TARGET`]
//!   bytes is committed (so a frame overshoots the target by at most one object's opcodes);
//! - committing writes `FRAME` and the length, or, for a frame of fewer than 4 bytes, removes
//!   the placeholder (the final frame after a large payload may hold just `STOP`);
//! - a bytes/str/bytearray payload of at least [`FRAME_SIZE_TARGET`] bytes commits the open
//!   frame and is written, header and payload, outside any frame.
//!
//! For [`super::encode_parts`], such a large payload from the value's heap is not copied:
//! the output records where it goes and borrows it, as CPython's pickler writes large
//! payloads straight to its file instead of its buffer.

use crate::opcodes::Opcode;

/// `FRAME_SIZE_TARGET`: frames are committed once they reach 64 KiB.
pub(crate) const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// `FRAME_SIZE_MIN`: smaller frames get no FRAME header.
const FRAME_SIZE_MIN: usize = 4;
/// `FRAME_HEADER_SIZE`: the FRAME opcode and its length.
const FRAME_HEADER_SIZE: usize = 1 + Opcode::FRAME.layout().width();
const NO_FRAME: usize = usize::MAX;

/// The pickle being written; `'h` is the value's heap, which large payloads may be lent from.
pub(crate) struct Output<'h> {
    buf: Vec<u8>,
    /// Whether framing is on (protocol 4+, after the PROTO opcode).
    framing: bool,
    /// Offset of the open frame's placeholder header, or [`NO_FRAME`].
    frame_start: usize,
    /// Whether the next write must open a frame: framing is on and none is open. (Kept
    /// apart so that the common write tests one flag.)
    must_open: bool,
    /// The length at which the open frame is full and the next `save()` commits it
    /// (`usize::MAX` with no frame open), so that [`Output::boundary`] is one comparison.
    frame_full_at: usize,
    /// With [`Output::share_payloads`]: the large payloads left out of `buf`, each with the
    /// offset in `buf` it goes before. Frames never span one (a large payload commits the
    /// open frame first), so these offsets stay put.
    spliced: Option<Vec<(usize, &'h [u8])>>,
}

impl<'h> Output<'h> {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_capacity(1 << 12)
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Output { buf: Vec::with_capacity(n), framing: false, frame_start: NO_FRAME, must_open: false, frame_full_at: usize::MAX, spliced: None }
    }

    /// Large payloads lent to the output will be spliced in by reference, not copied.
    pub(crate) fn share_payloads(&mut self) {
        self.spliced = Some(Vec::new());
    }

    /// Turns framing on (dump() does so right after writing PROTO for protocol 4+).
    pub(crate) fn start_framing(&mut self) {
        self.set_framing(true);
    }

    fn set_framing(&mut self, on: bool) {
        self.framing = on;
        self.must_open = on && self.frame_start == NO_FRAME;
    }

    #[inline(always)]
    fn open_frame(&mut self) {
        if self.must_open {
            self.open_frame_now();
        }
    }

    fn open_frame_now(&mut self) {
        self.frame_start = self.buf.len();
        self.frame_full_at = self.frame_start + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        self.must_open = false;
        self.buf.extend_from_slice(&[0xFE; FRAME_HEADER_SIZE]);
    }

    /// `_Pickler_Write` of one opcode byte.
    #[inline(always)]
    pub(crate) fn op(&mut self, op: Opcode) {
        self.open_frame();
        self.buf.push(op.0);
    }

    /// `_Pickler_Write` of a short, fixed-size piece (an opcode and its argument).
    #[inline(always)]
    pub(crate) fn put<const N: usize>(&mut self, data: [u8; N]) {
        self.open_frame();
        self.buf.extend_from_slice(&data);
    }

    /// `_Pickler_Write` of the first `n` bytes of `data`: variable-length opcodes are
    /// written as one fixed-size store, the excess cut off (cheaper than a copy of `n`).
    #[inline(always)]
    pub(crate) fn put_prefix<const N: usize>(&mut self, data: [u8; N], n: usize) {
        self.put(data);
        self.buf.truncate(self.buf.len() - (N - n));
    }

    /// Starts a run of writes of at most `max` bytes in all, made straight into the
    /// buffer (a frame is opened first if one is due): the room, zero-filled, and how many
    /// bytes of it can be written before the open frame is full. [`Output::end_run`] says
    /// how much was used.
    #[inline]
    pub(crate) fn begin_run(&mut self, max: usize) -> (&mut [u8], usize) {
        self.open_frame();
        let start = self.buf.len();
        let until_full = self.frame_full_at.saturating_sub(start);
        self.buf.resize(start + max, 0);
        (&mut self.buf[start..], until_full)
    }

    /// Ends a run begun `max` bytes ago of which `used` were written.
    #[inline]
    pub(crate) fn end_run(&mut self, max: usize, used: usize) {
        self.buf.truncate(self.buf.len() - (max - used));
    }

    /// `_Pickler_Write`.
    #[inline]
    pub(crate) fn write(&mut self, data: &[u8]) {
        self.open_frame();
        self.buf.extend_from_slice(data);
    }

    /// `_Pickler_CommitFrame`.
    pub(crate) fn commit_frame(&mut self) {
        if !self.framing || self.frame_start == NO_FRAME {
            return;
        }
        let start = self.frame_start;
        let len = self.buf.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.buf[start..start + FRAME_HEADER_SIZE].copy_from_slice(&header!(FRAME, len));
        } else {
            self.buf.drain(start..start + FRAME_HEADER_SIZE);
        }
        self.frame_start = NO_FRAME;
        self.frame_full_at = usize::MAX;
        self.must_open = true;
    }

    /// `_Pickler_OpcodeBoundary`: called at the start of every `save()`.
    #[inline(always)]
    pub(crate) fn boundary(&mut self) {
        if self.buf.len() >= self.frame_full_at {
            self.commit_frame();
        }
    }

    /// `_Pickler_write_bytes`: a header and its payload; a large payload goes outside frames.
    /// `lent`, when given, is `data` borrowed for as long as the heap, to splice in.
    #[inline]
    pub(crate) fn write_payload(&mut self, header: &[u8], data: &[u8], lent: Option<&'h [u8]>) {
        if data.len() >= FRAME_SIZE_TARGET {
            self.write_large_payload(header, data, lent);
        } else {
            self.open_frame();
            self.buf.reserve(header.len() + data.len());
            self.buf.extend_from_slice(header);
            self.buf.extend_from_slice(data);
        }
    }

    /// A payload of [`FRAME_SIZE_TARGET`] bytes or more: outside any frame, and copied into
    /// room made for exactly it (growing by doubling would copy what came before once more
    /// and leave up to half the buffer unused).
    fn write_large_payload(&mut self, header: &[u8], data: &[u8], lent: Option<&'h [u8]>) {
        self.commit_frame();
        let framing = self.framing;
        self.set_framing(false);
        match (&mut self.spliced, lent) {
            (Some(spliced), Some(lent)) => {
                self.buf.extend_from_slice(header);
                spliced.push((self.buf.len(), lent));
            }
            _ => {
                // Room for the payload and whatever little follows it (STOP, usually).
                self.buf.reserve_exact(header.len() + data.len() + 4096);
                self.write(header);
                self.write(data);
            }
        }
        self.set_framing(framing);
    }

    /// The finished pickle.
    pub(crate) fn finish(self) -> Vec<u8> {
        debug_assert!(self.spliced.as_ref().is_none_or(|s| s.is_empty()));
        self.buf
    }

    /// The finished pickle as parts (after [`Output::share_payloads`]).
    pub(crate) fn finish_parts(self) -> Encoded<'h> {
        Encoded { own: self.buf, spliced: self.spliced.unwrap_or_default() }
    }
}

/// A pickle in parts, as [`super::encode_parts`] makes it: the encoder's own bytes, with
/// every str or bytes payload of at least 64 KiB (the ones CPython writes outside frames)
/// borrowed from the value's heap rather than copied. Write it out with
/// [`Encoded::write_to`], or iterate [`Encoded::parts`] for vectored I/O.
#[derive(Clone, Debug)]
pub struct Encoded<'h> {
    own: Vec<u8>,
    spliced: Vec<(usize, &'h [u8])>,
}

impl<'h> Encoded<'h> {
    /// The pickle's length in bytes.
    pub fn len(&self) -> usize {
        self.own.len() + self.spliced.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    /// Whether the pickle is empty (it never is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pickle's bytes, in order, as consecutive slices.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> + '_ {
        // Own bytes up to each splice point, then the lent payload; empty slices skipped.
        let mut at = 0;
        let mut spliced = self.spliced.iter();
        let mut pending: Option<&[u8]> = None;
        std::iter::from_fn(move || loop {
            if let Some(b) = pending.take() {
                return Some(b);
            }
            match spliced.next() {
                Some(&(offset, lent)) => {
                    let own = &self.own[at..offset];
                    at = offset;
                    pending = Some(lent);
                    if !own.is_empty() {
                        return Some(own);
                    }
                }
                None if at < self.own.len() => {
                    let own = &self.own[at..];
                    at = self.own.len();
                    return Some(own);
                }
                None => return None,
            }
        })
    }

    /// Writes the pickle to `w`.
    pub fn write_to<W: std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        self.parts().try_for_each(|p| w.write_all(p))
    }

    /// The pickle as one vector (a copy of every part).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.parts().for_each(|p| v.extend_from_slice(p));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_lose_their_header() {
        let mut o = Output::new();
        o.write(&[0x80, 4]);
        o.start_framing();
        o.op(Opcode::NONE);
        o.op(Opcode::STOP);
        o.commit_frame();
        assert_eq!(o.finish(), b"\x80\x04N.");
    }

    #[test]
    fn large_payloads_go_outside_frames() {
        let mut o = Output::new();
        o.start_framing();
        o.op(Opcode::EMPTY_LIST);
        o.op(Opcode::MEMOIZE);
        o.op(Opcode::MARK);
        let big = vec![7u8; FRAME_SIZE_TARGET];
        o.write_payload(&[Opcode::BINBYTES8.0, 0, 0, 1, 0, 0, 0, 0, 0], &big, None);
        o.op(Opcode::STOP);
        o.commit_frame();
        let out = o.finish();
        // The 3-byte frame before the payload loses its header; STOP alone follows unframed.
        assert_eq!(&out[..4], b"]\x94(\x8e");
        assert_eq!(out.len(), 3 + 9 + FRAME_SIZE_TARGET + 1);
    }

    #[test]
    fn shared_payloads_are_spliced_in_uncopied() {
        let big = vec![7u8; FRAME_SIZE_TARGET + 5];
        fn write<'h>(o: &mut Output<'h>, big: &'h [u8]) {
            let header = [Opcode::BINBYTES8.0, 5, 0, 1, 0, 0, 0, 0, 0];
            o.start_framing();
            o.op(Opcode::MARK);
            o.write_payload(&header, big, Some(big));
            o.op(Opcode::EMPTY_LIST);
            o.write_payload(&header, big, Some(big));
            for _ in 0..5 {
                o.op(Opcode::STOP);
            }
            o.commit_frame();
        }
        let mut copied = Output::new();
        write(&mut copied, &big);
        let mut parts = Output::new();
        parts.share_payloads();
        write(&mut parts, &big);
        let copied = copied.finish();
        let parts = parts.finish_parts();
        assert_eq!(parts.len(), copied.len());
        assert_eq!(parts.to_vec(), copied);
        let slices: Vec<&[u8]> = parts.parts().collect();
        // MARK + header, payload, EMPTY_LIST + header, payload, a framed run of STOPs.
        assert_eq!(slices.len(), 5);
        assert_eq!(slices[1].as_ptr(), big.as_ptr());
        assert_eq!(slices[3].as_ptr(), big.as_ptr());
        assert_eq!(&slices[4][..1], &[Opcode::FRAME.0]);
        let mut written = Vec::new();
        parts.write_to(&mut written).unwrap();
        assert_eq!(written, copied);
    }
}
