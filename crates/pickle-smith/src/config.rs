//! What the pickle generator may emit: [`Config`], with the opcode subsets it is built
//! from ([`OpcodeSet`], [`Family`]).

use arbitrary::{Arbitrary, Result, Unstructured};
use brine_codec::opcodes::HIGHEST_PROTOCOL;
use brine_codec::{Opcode, OPCODES};
use std::collections::BTreeMap;

config! {
    /// What [`crate::GeneratedPickle::new`] may generate.
    ///
    /// The defaults give valid pickles of every protocol using every opcode. Invalidity
    /// is opt-in, one knob per kind (the `invalid_*` fields): with a knob on, about half
    /// of the pickles carry one defect of an enabled kind, and are marked
    /// `expect_valid: false`.
    Config {
        /// Lowest protocol a pickle may be written in. Defaults to 0.
        min_protocol: u8 = 0,
        /// Highest protocol a pickle may be written in (at most 5). Defaults to 5.
        max_protocol: u8 = HIGHEST_PROTOCOL,
        /// Most opcodes generated before the closing ones (which bring the stack down to one
        /// item and STOP). Defaults to 100.
        max_ops: usize = 100,
        /// Deepest nesting of containers, as built (a container mutated after it was nested may
        /// end up deeper), and most marks open at once. Defaults to 16.
        max_depth: usize = 16,
        /// Most distinct memo slots filled. Defaults to 64.
        max_memo: usize = 64,
        /// Longest str argument, in code points. Defaults to 24.
        max_str_len: usize = 24,
        /// Longest bytes or bytearray argument. Defaults to 40.
        max_bytes_len: usize = 40,
        /// Largest int, in bytes of two's complement (LONG1/LONG4), or as many decimal digits as
        /// that takes (INT/LONG lines, never beyond CPython's 4,300-digit limit). Defaults to 24.
        max_int_bytes: usize = 24,
        /// The opcodes that may appear. STOP always does, and so does NONE when the stack needs
        /// an item for STOP and no enabled opcode can push one. Defaults to all 68.
        opcodes: OpcodeSet = OpcodeSet::all(),
        /// Whether protocol 4 and 5 pickles are framed (when FRAME is in `opcodes`): FRAME
        /// opcodes at op boundaries, each frame holding whole opcodes, as the pure-Python
        /// unpickler requires. Defaults to true.
        framing: bool = true,
        /// How many out-of-band buffers NEXT_BUFFER may consume. A pickle that uses k of them
        /// reports `buffers: Some(k)` and must be loaded with k buffers. Defaults to 2.
        buffers: usize = 2,
        /// The copyreg extension registry EXT1/EXT2/EXT4 draw from: code -> (module, name),
        /// codes in 1..=0x7fffffff, one code per (module, name). A pickle reports the entries it
        /// uses. Defaults to one code for each EXT width: 1, 0x1234 and 0x12345678.
        extensions: BTreeMap<i32, (String, String)> = default_extensions(),
        /// Cut some pickles short (anywhere before their last byte). Defaults to false.
        invalid_truncation: bool = false,
        /// Put an opcode on a stack it cannot take (underflow, a wrong type). Defaults to false.
        invalid_stack_shape: bool = false,
        /// Close a mark that is not there (LIST, APPENDS, POP_MARK... with no MARK open).
        /// Defaults to false.
        invalid_missing_mark: bool = false,
        /// Fetch a memo slot never filled, or PUT a negative one. Defaults to false.
        invalid_memo_index: bool = false,
        /// Give a counted argument (string, bytes, long, frame) a length past the end of the
        /// data, or a negative one. Defaults to false.
        invalid_length: bool = false,
        /// Malform a text argument: an int, float or memo line that does not parse, an unquoted
        /// or non-ASCII STRING, a bad escape, non-UTF-8 names or strs. Defaults to false.
        invalid_text: bool = false,
        /// Insert a byte that is no opcode. Defaults to false.
        invalid_opcode: bool = false,
    }
}

fn default_extensions() -> BTreeMap<i32, (String, String)> {
    [
        (1, ("copyreg", "_reconstructor")),
        (0x1234, ("collections", "OrderedDict")),
        (0x1234_5678, ("__main__", "Extended")),
    ]
    .into_iter()
    .map(|(c, (m, n))| (c, (m.to_string(), n.to_string())))
    .collect()
}

impl Config {
    /// This config with every `invalid_*` knob on: near-valid pickles for error paths (the
    /// conformance run's and campaigns' quarter of invalid cases).
    pub fn with_every_invalidity(self) -> Config {
        Config {
            invalid_truncation: true,
            invalid_stack_shape: true,
            invalid_missing_mark: true,
            invalid_memo_index: true,
            invalid_length: true,
            invalid_text: true,
            invalid_opcode: true,
            ..self
        }
    }

    /// Whether any `invalid_*` knob other than truncation is on.
    pub(crate) fn any_invalid_op(&self) -> bool {
        self.invalid_stack_shape
            || self.invalid_missing_mark
            || self.invalid_memo_index
            || self.invalid_length
            || self.invalid_text
            || self.invalid_opcode
    }
}

/// Swarm testing: random maximums, a random protocol range, random framing, buffers and
/// extension registry, and a random subset of the opcodes (whole families dropped, then
/// single opcodes). The invalidity knobs stay off.
impl<'a> Arbitrary<'a> for Config {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let (a, b) = (
            u.int_in_range(0..=HIGHEST_PROTOCOL)?,
            u.int_in_range(0..=HIGHEST_PROTOCOL)?,
        );
        let mut opcodes = OpcodeSet::all();
        for f in Family::ALL {
            if u.ratio(1, 5)? {
                opcodes = opcodes.without(OpcodeSet::family(f));
            }
        }
        for info in OPCODES {
            if u.ratio(1, 10)? {
                opcodes.remove(info.code);
            }
        }
        let mut extensions = BTreeMap::new();
        for i in 0..u.int_in_range(0..=4)? {
            let code = match u.int_in_range(0..=2)? {
                0 => u.int_in_range(1..=0xff)?,
                1 => u.int_in_range(0x100..=0xffff)?,
                _ => u.int_in_range(0x1_0000..=0x7fff_ffff)?,
            };
            extensions.insert(code, ("__main__".to_string(), format!("Ext{i}")));
        }
        Ok(Config {
            min_protocol: a.min(b),
            max_protocol: a.max(b),
            max_ops: u.int_in_range(0..=400)?,
            max_depth: u.int_in_range(1..=32)?,
            max_memo: u.int_in_range(0..=300)?,
            max_str_len: u.int_in_range(0..=300)?,
            max_bytes_len: u.int_in_range(0..=300)?,
            max_int_bytes: u.int_in_range(0..=300)?,
            opcodes,
            framing: u.arbitrary()?,
            buffers: u.int_in_range(0..=4)?,
            extensions,
            ..Config::default()
        })
    }
}

/// A set of opcodes (by their place in [`brine_codec::OPCODES`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpcodeSet(u128);

impl OpcodeSet {
    /// All 68 opcodes.
    pub fn all() -> OpcodeSet {
        OpcodeSet((1u128 << OPCODES.len()) - 1)
    }

    /// No opcode.
    pub fn empty() -> OpcodeSet {
        OpcodeSet(0)
    }

    /// The opcodes of one family.
    pub fn family(f: Family) -> OpcodeSet {
        let mut s = OpcodeSet::empty();
        for e in crate::pickle::TABLE.iter().filter(|e| e.family == f) {
            s.insert(e.op);
        }
        s
    }

    /// Whether `op` is in the set (never true for a byte that is no opcode).
    pub fn contains(&self, op: Opcode) -> bool {
        op.index().is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Adds `op` (a byte that is no opcode is ignored).
    pub fn insert(&mut self, op: Opcode) {
        if let Some(i) = op.index() {
            self.0 |= 1 << i;
        }
    }

    /// Removes `op`.
    pub fn remove(&mut self, op: Opcode) {
        if let Some(i) = op.index() {
            self.0 &= !(1 << i);
        }
    }

    /// The opcodes of both sets.
    pub fn with(self, other: OpcodeSet) -> OpcodeSet {
        OpcodeSet(self.0 | other.0)
    }

    /// The opcodes of `self` not in `other`.
    pub fn without(self, other: OpcodeSet) -> OpcodeSet {
        OpcodeSet(self.0 & !other.0)
    }

    /// The opcodes in the set, in [`brine_codec::OPCODES`] order.
    pub fn iter(&self) -> impl Iterator<Item = Opcode> + '_ {
        OPCODES
            .iter()
            .map(|i| i.code)
            .filter(|&op| self.contains(op))
    }
}

impl std::fmt::Debug for OpcodeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// A family of opcodes that do one kind of thing, for switching them off together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// MARK, POP, POP_MARK, DUP.
    Stack,
    /// None, bools, ints and floats, in text and binary forms.
    Scalars,
    /// str arguments: STRING, BINSTRING, SHORT_BINSTRING, UNICODE and the BINUNICODEs.
    Strings,
    /// bytes and bytearray arguments.
    Bytes,
    /// Building tuples, lists, dicts, sets and frozensets, and filling them.
    Containers,
    /// PUT, GET, MEMOIZE in all their forms.
    Memo,
    /// Globals and objects: GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ(_EX).
    Objects,
    /// PERSID, BINPERSID.
    Persistence,
    /// EXT1, EXT2, EXT4.
    Extensions,
    /// NEXT_BUFFER, READONLY_BUFFER.
    Buffers,
    /// The stream's structure: PROTO, FRAME, STOP (STOP is emitted whatever the set says).
    Structure,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 11] = [
        Family::Stack,
        Family::Scalars,
        Family::Strings,
        Family::Bytes,
        Family::Containers,
        Family::Memo,
        Family::Objects,
        Family::Persistence,
        Family::Extensions,
        Family::Buffers,
        Family::Structure,
    ];
}
