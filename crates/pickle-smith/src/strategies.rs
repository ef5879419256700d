//! proptest strategies over both generators.
//!
//! Each draws a byte string and runs the generator on it, so proptest shrinks a failing
//! case by shrinking the bytes: shorter input means fewer opcodes, smaller values and
//! earlier choices in every range, which is what a minimal pickle looks like.
//!
//! ```
//! use pickle_smith::strategies::any_pickle;
//! use pickle_smith::Config;
//! use proptest::prelude::*;
//!
//! proptest!(|(p in any_pickle(Config::default()))| {
//!     prop_assert!(brine_codec::decode_with(&p.bytes, &p.decode_options()).is_ok());
//! });
//! ```

use crate::{Config, GeneratedPickle, GeneratedValue, ValueConfig};
use arbitrary::Unstructured;
use proptest::prelude::*;

/// Most bytes of input drawn for one case.
const MAX_INPUT: usize = 4096;

/// Pickles generated with `config`.
pub fn any_pickle(config: Config) -> impl Strategy<Value = GeneratedPickle> {
    proptest::collection::vec(any::<u8>(), 0..MAX_INPUT).prop_map(move |bytes| {
        GeneratedPickle::new(&config, &mut Unstructured::new(&bytes))
            .expect("generation never fails on short input")
    })
}

/// Pickle JSON documents generated with `config`.
pub fn any_value(config: ValueConfig) -> impl Strategy<Value = GeneratedValue> {
    proptest::collection::vec(any::<u8>(), 0..MAX_INPUT).prop_map(move |bytes| {
        GeneratedValue::new(&config, &mut Unstructured::new(&bytes))
            .expect("generation never fails on short input")
    })
}
