//! Which CPython the codec models: [`Python`], a minor version of CPython 3.
//!
//! The codec reproduces one interpreter's `pickle` C implementation at a time: decoding as
//! its C unpickler does ([`crate::DecodeOptions::python`]) and encoding as its
//! `pickle.dumps` does ([`crate::EncodeOptions::python`]). The default is CPython 3.11, the
//! reference the rest of brine is checked against.
//!
//! Each supported version stands for the release that was measured (Debian's builds; see
//! [`Python::measured`]): pickle changes do land in patch releases (the frame checks of
//! gh-154848 went into 3.14.7 and 3.13.15), so "3.13" means 3.13.5, before that backport.
//! A version that was not measured is rejected rather than guessed at.
//!
//! The differences modelled, each at the code that models it (with the upstream change):
//!
//! | from | decoder | encoder |
//! | --- | --- | --- |
//! | 3.11 | int text beyond 4,300 digits is a ValueError (3.9 has no limit) | likewise for `L...L` text |
//! | 3.13 | BINSTRING's length signed (only the message differs below 2 GiB) | messages only |
//! | 3.14 | INT/LONG text in base 10; frames enforced; `<locals>` names resolve | `<locals>` is a PicklingError |
//! | 3.15 | INT bools only from `00`/`01`; huge lengths read incrementally; sparse memo indices in a dict (MEMOIZE counts only the array's); empty APPENDS/ADDITEMS check the target | no 1-item APPENDS/SETITEMS batch, no empty trailing SETITEMS/ADDITEMS batch |

use std::fmt;
use std::str::FromStr;

/// A CPython 3 minor version whose pickle module the codec models. Ordered by version;
/// displays as `3.14`; parses from `"3.14"`. Defaults to [`Python::V3_11`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Python {
    minor: u8,
}

impl Python {
    /// CPython 3.9 (measured: 3.9.2, Debian bullseye).
    pub const V3_9: Python = Python { minor: 9 };
    /// CPython 3.11 (measured: 3.11.2, Debian bookworm): the default.
    pub const V3_11: Python = Python { minor: 11 };
    /// CPython 3.13 (measured: 3.13.5, Debian trixie).
    pub const V3_13: Python = Python { minor: 13 };
    /// CPython 3.14 (measured: 3.14.10, Debian sid).
    pub const V3_14: Python = Python { minor: 14 };
    /// CPython 3.15 (measured: 3.15.2, Debian sid).
    pub const V3_15: Python = Python { minor: 15 };

    /// Every supported version, oldest first.
    pub const SUPPORTED: [Python; 5] = [Python::V3_9, Python::V3_11, Python::V3_13, Python::V3_14, Python::V3_15];

    /// The minor version (`14` for 3.14).
    pub const fn minor(self) -> u8 {
        self.minor
    }

    /// The exact interpreter this version's behaviour was measured on.
    pub fn measured(self) -> &'static str {
        match self.minor {
            9 => "CPython 3.9.2 (Debian bullseye)",
            11 => "CPython 3.11.2 (Debian bookworm)",
            13 => "CPython 3.13.5 (Debian trixie)",
            14 => "CPython 3.14.10 (Debian sid)",
            _ => "CPython 3.15.2 (Debian sid)",
        }
    }

    // ---- what changed, by version (each is used where the difference is modelled) ----

    /// `sys.int_info.default_max_str_digits`: the int/str conversion limit of CVE-2020-10735
    /// (gh-95778, new in 3.11 and the 3.7-3.10 security releases after 3.9.2).
    pub(crate) fn int_max_str_digits(self) -> Option<usize> {
        (self.minor >= 11).then_some(crate::pytext::INT_MAX_STR_DIGITS)
    }

    /// INT and LONG text parsed in base 10, not base 0 (gh-126992, PR #127042, 3.14).
    pub(crate) fn text_ints_base10(self) -> bool {
        self.minor >= 14
    }

    /// INT makes a bool only of the exact texts `00` and `01` (gh-135241, PR #135242, 3.15).
    pub(crate) fn exact_int_bools(self) -> bool {
        self.minor >= 15
    }

    /// The C unpickler enforces frame boundaries (gh-154848, PR #154893; in 3.14 from 3.14.7
    /// by PR #154981, and in 3.13.15 by PR #154982, after the measured 3.13.5).
    pub(crate) fn enforces_frames(self) -> bool {
        self.minor >= 14
    }

    /// BINSTRING's 4-byte length is read as signed (gh-135321, PR #135322, 3.14; measured in
    /// 3.13.5 too, which has the 3.13 backport).
    pub(crate) fn signed_binstring_size(self) -> bool {
        self.minor >= 13
    }

    /// `find_class` resolves a dotted name with a `<locals>` component like any other.
    pub(crate) fn resolves_locals(self) -> bool {
        self.minor >= 14
    }

    /// Counted arguments are read in chunks, so a huge declared length is "pickle data was
    /// truncated" instead of a MemoryError (gh-115952, PR #119204, 3.15).
    pub(crate) fn reads_incrementally(self) -> bool {
        self.minor >= 15
    }

    /// The memo is an array plus a dict for too sparse indices, so any index works, and
    /// MEMOIZE's index counts only the array's entries (gh-115952, PR #119204, 3.15; the
    /// bookkeeping is modelled by `decode::SplitMemo`).
    pub(crate) fn split_memo(self) -> bool {
        self.minor >= 15
    }

    /// APPENDS and ADDITEMS with no items still look up the target's `extend`/`append` or
    /// `add` (gh-135573, PR #144950, 3.15).
    pub(crate) fn empty_batches_check_target(self) -> bool {
        self.minor >= 15
    }

    /// The pickler never writes a batch of one item with APPENDS/SETITEMS, nor an empty
    /// SETITEMS/ADDITEMS batch (gh-135573, PR #144162, 3.15).
    pub(crate) fn compact_batches(self) -> bool {
        self.minor >= 15
    }

    /// The pickler raises PicklingError, not AttributeError, for a `<locals>` name
    /// (gh-122311, PR #122771, 3.14; the change is discussed in gh-139806).
    pub(crate) fn locals_is_pickling_error(self) -> bool {
        self.minor >= 14
    }
}

impl Default for Python {
    fn default() -> Self {
        Python::V3_11
    }
}

impl fmt::Display for Python {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "3.{}", self.minor)
    }
}

/// A version string [`Python::from_str`] does not accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePythonError {
    given: String,
}

impl fmt::Display for ParsePythonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let supported: Vec<String> = Python::SUPPORTED.iter().map(Python::to_string).collect();
        write!(
            f,
            "unsupported Python version {:?}: brine models only the measured versions {}",
            self.given,
            supported.join(", ")
        )
    }
}

impl std::error::Error for ParsePythonError {}

impl FromStr for Python {
    type Err = ParsePythonError;

    /// `"3.14"` (a `python` prefix, as in `python3.14`, is allowed); anything but a
    /// supported version is an error listing the supported ones.
    fn from_str(s: &str) -> Result<Python, ParsePythonError> {
        let t = s.trim();
        let t = t.strip_prefix("python").unwrap_or(t);
        Python::SUPPORTED
            .into_iter()
            .find(|p| p.to_string() == t)
            .ok_or_else(|| ParsePythonError { given: s.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_displays_and_orders() {
        for p in Python::SUPPORTED {
            assert_eq!(p.to_string().parse::<Python>(), Ok(p));
        }
        assert_eq!("python3.14".parse::<Python>(), Ok(Python::V3_14));
        assert_eq!(Python::V3_9.to_string(), "3.9");
        assert_eq!(Python::default(), Python::V3_11);
        assert!(Python::V3_9 < Python::V3_11 && Python::V3_11 < Python::V3_13);
        assert!(Python::V3_13 < Python::V3_14 && Python::V3_14 < Python::V3_15);
        let mut sorted = Python::SUPPORTED;
        sorted.sort();
        assert_eq!(sorted, Python::SUPPORTED);
    }

    #[test]
    fn rejects_unmeasured_versions() {
        for bad in ["3.12", "3.10", "2.7", "3", "3.14.1", "", "three"] {
            let e = bad.parse::<Python>().unwrap_err().to_string();
            assert!(e.contains("3.9, 3.11, 3.13, 3.14, 3.15"), "{e}");
        }
    }
}
