//! Where a campaign's cases come from: pickle-smith (valid and near-valid pickles), byte and
//! opcode mutations of the corpus, the libFuzzer working corpora under fuzz/corpus/ when a
//! machine has them, and, for scanners, pickles that hide a global the way real bypasses do.
//!
//! Every case is drawn from a seeded xorshift stream, so a campaign's seed and case number
//! reproduce it (the findings name both).

use arbitrary::Unstructured;
use brine_codec::Opcode;
use std::path::Path;

/// One case to run.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The pickle.
    pub bytes: Vec<u8>,
    /// Out-of-band buffers to supply.
    pub buffers: Option<usize>,
    /// The extension registry to load it under, `(module, name, code)`.
    pub extensions: Vec<(String, String, i64)>,
    /// Which source made it: `smith`, `smith-invalid`, `mutation`, `fuzz-corpus`, `bypass/...`.
    pub origin: String,
}

/// A seeded xorshift64 generator (no dependency; the stream is the reproduction recipe).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A seed pickle: bytes, out-of-band buffers, extension registry.
pub type SeedPickle = (Vec<u8>, Option<usize>, Vec<(String, String, i64)>);

/// The seed pickles mutations start from.
pub struct Seeds {
    /// (bytes, buffers, extensions) of every corpus case and fuzz-corpus file.
    pub pickles: Vec<SeedPickle>,
    /// How many of them came from fuzz/corpus/.
    pub from_fuzz_corpus: usize,
}

/// Largest seed taken from a fuzz corpus (big inputs cost campaign time, not coverage).
const MAX_SEED: usize = 64 << 10;

impl Seeds {
    /// The corpus cases plus every file under fuzz/corpus/{decode,dis,differential}/ (when a
    /// fuzzing campaign left them there) up to [`MAX_SEED`] bytes.
    pub fn load(root: &Path, corpus: &crate::impls::corpus::Corpus) -> Seeds {
        let mut pickles: Vec<_> = corpus
            .cases
            .iter()
            .filter(|c| c.pickle.len() <= MAX_SEED)
            .map(|c| (c.pickle.clone(), (c.buffers > 0).then_some(c.buffers), c.extensions.clone()))
            .collect();
        let mut from_fuzz_corpus = 0;
        for t in ["decode", "dis"] {
            let dir = root.join("fuzz/corpus").join(t);
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                if let Ok(b) = std::fs::read(e.path()) {
                    if !b.is_empty() && b.len() <= MAX_SEED {
                        pickles.push((b, None, vec![]));
                        from_fuzz_corpus += 1;
                    }
                }
            }
        }
        Seeds { pickles, from_fuzz_corpus }
    }
}

/// Draws cases: a mix of generated, near-valid, mutated and (for scanners) bypass pickles.
pub struct Source {
    rng: Rng,
    seeds: Seeds,
    valid: pickle_smith::Config,
    invalid: pickle_smith::Config,
    scanner: bool,
    bypass: pickle_smith::BypassConfig,
}

impl Source {
    /// A source drawing from `seed`. `scanner` mixes in bypass pickles.
    pub fn new(seed: u64, seeds: Seeds, scanner: bool) -> Source {
        let valid = pickle_smith::Config::default();
        let invalid = valid.clone().with_every_invalidity();
        Source { rng: Rng::new(seed), seeds, valid, invalid, scanner, bypass: Default::default() }
    }

    /// The next case.
    pub fn draw(&mut self) -> Candidate {
        loop {
            let pick = self.rng.below(100);
            let c = if self.scanner && pick < 50 {
                self.bypass()
            } else if pick < 70 {
                self.smith(pick % 4 == 0)
            } else {
                self.mutation()
            };
            if let Some(c) = c {
                return c;
            }
        }
    }

    fn smith(&mut self, invalid: bool) -> Option<Candidate> {
        let len = 256 + self.rng.below(2048);
        let data = self.rng.bytes(len);
        let mut u = Unstructured::new(&data);
        let config = if invalid { &self.invalid } else { &self.valid };
        let p = pickle_smith::GeneratedPickle::new(config, &mut u).ok()?;
        Some(Candidate {
            bytes: p.bytes,
            buffers: p.buffers,
            extensions: p.extensions.into_iter().map(|(code, (m, n))| (m, n, i64::from(code))).collect(),
            origin: if invalid { "smith-invalid".into() } else { "smith".into() },
        })
    }

    fn bypass(&mut self) -> Option<Candidate> {
        let len = 64 + self.rng.below(512);
        let data = self.rng.bytes(len);
        let mut u = Unstructured::new(&data);
        let h = pickle_smith::HiddenGlobal::new(&self.bypass, &mut u).ok()?;
        Some(Candidate {
            bytes: h.bytes,
            buffers: h.buffers,
            extensions: h.extensions,
            origin: format!("bypass/{}", h.technique),
        })
    }

    fn mutation(&mut self) -> Option<Candidate> {
        if self.seeds.pickles.is_empty() {
            return None;
        }
        let (base, buffers, extensions) = self.seeds.pickles[self.rng.below(self.seeds.pickles.len())].clone();
        let mut b = base;
        for _ in 0..1 + self.rng.below(3) {
            self.mutate(&mut b);
        }
        Some(Candidate { bytes: b, buffers, extensions, origin: "mutation".into() })
    }

    /// One byte- or opcode-level mutation.
    fn mutate(&mut self, b: &mut Vec<u8>) {
        let len = b.len();
        let at = self.rng.below(len + 1);
        match self.rng.below(8) {
            // A random byte changed.
            0 if len > 0 => b[at.min(len - 1)] ^= 1 << self.rng.below(8),
            // A byte replaced by an opcode.
            1 if len > 0 => b[at.min(len - 1)] = random_opcode(&mut self.rng),
            // An opcode inserted.
            2 => b.insert(at, random_opcode(&mut self.rng)),
            // A range deleted.
            3 if len > 0 => {
                let n = 1 + self.rng.below(8.min(len - at.min(len - 1)));
                let s = at.min(len - 1);
                b.drain(s..(s + n).min(len));
            }
            // A range duplicated.
            4 if len > 0 => {
                let s = at.min(len - 1);
                let n = 1 + self.rng.below(16.min(len - s));
                let piece = b[s..s + n].to_vec();
                let to = self.rng.below(b.len() + 1);
                b.splice(to..to, piece);
            }
            // Truncated.
            5 => b.truncate(at),
            // Spliced with another seed's tail.
            6 => {
                let (other, _, _) = &self.seeds.pickles[self.rng.below(self.seeds.pickles.len())];
                let from = self.rng.below(other.len() + 1);
                b.truncate(at);
                b.extend_from_slice(&other[from..]);
            }
            // An interesting integer written over 1, 2, 4 or 8 bytes.
            _ => {
                const INTERESTING: [u64; 8] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0xffff_ffff, u64::MAX];
                let v = INTERESTING[self.rng.below(INTERESTING.len())];
                let w = [1, 2, 4, 8][self.rng.below(4)];
                for i in 0..w {
                    if let Some(x) = b.get_mut(at + i) {
                        *x = (v >> (8 * i)) as u8;
                    }
                }
            }
        }
    }
}

/// A byte that is one of the table's opcodes.
fn random_opcode(rng: &mut Rng) -> u8 {
    static ALL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| (0..=255u8).filter(|&c| Opcode(c).info().is_some()).collect());
    all[rng.below(all.len())]
}
