//! Protocol and framing: PROTO and FRAME. Before 3.14 the C unpickler only checks that a
//! frame's bytes are there; from 3.14 reads may not cross a frame's end (see
//! [`Machine::arg`]).

use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::{Opcode, HIGHEST_PROTOCOL};

impl Machine<'_> {
    /// PROTO: the protocol, which later opcodes consult (`fix_imports` below 3, the
    /// `<locals>` rule from 4).
    #[inline(never)]
    pub(super) fn load_proto(&mut self) -> R<()> {
        let p = u8::from_le_bytes(self.fixed(Opcode::PROTO)?);
        if p > HIGHEST_PROTOCOL {
            return Err(ErrorCode::Value(format!("unsupported pickle protocol: {p}")));
        }
        self.proto = p;
        Ok(())
    }

    /// FRAME: the length of the frame that follows.
    #[inline]
    pub(super) fn load_frame(&mut self) -> R<()> {
        let n = u64::from_le_bytes(self.fixed(Opcode::FRAME)?);
        // 3.14+ (gh-154848, PR #154893): a FRAME whose argument ends before the current
        // frame does is an error, checked before the length itself. (frame_end is 0 for
        // earlier versions.)
        if self.pos < self.frame_end {
            return Err(ErrorCode::Unpickling("beginning of a new frame before end of current frame".into()));
        }
        // `calc_binsize`: above PY_SSIZE_T_MAX is an overflow.
        if n > i64::MAX as u64 {
            return Err(ErrorCode::Overflow("FRAME length exceeds system's maximum".into()));
        }
        let n = n as usize;
        // The C unpickler checks that the frame's bytes are there, then reads on; before
        // 3.14 frame boundaries are not enforced at all.
        if n > self.data.len() - self.pos {
            return Err(ErrorCode::Truncated);
        }
        if self.opts.python.enforces_frames() {
            self.frame_end = self.pos + n;
            self.readable = &self.data[..self.frame_end];
        }
        Ok(())
    }
}
