//! Names of globals as `save_global` writes them: the dotted-path rules, the reverse
//! `fix_imports` mapping for protocols 0-2 and the identifier encodings of GLOBAL.

use super::compat_reverse::{REVERSE_IMPORT_MAPPING, REVERSE_NAME_MAPPING};
use super::EncodeErrorCode;
use crate::python::Python;

/// `get_dotted_path`'s check: a `<locals>` component cannot be pickled. An AttributeError
/// up to 3.13, a PicklingError from 3.14 (gh-122311, PR #122771: "Raise PicklingError
/// instead of ... AttributeError"; the change is discussed in gh-139806). 3.13's message
/// says "Can't get local object" (measured; upstream reference not found).
pub(crate) fn check_dotted(module: &[u8], name: &[u8], python: Python) -> Result<(), EncodeErrorCode> {
    if name.split(|&b| b == b'.').any(|part| part == b"<locals>") {
        let name = String::from_utf8_lossy(name);
        if python.locals_is_pickling_error() {
            return Err(EncodeErrorCode::Pickling(format!(
                "Can't pickle local object <{}.{name}>",
                String::from_utf8_lossy(module)
            )));
        }
        let verb = if python >= Python::V3_13 { "get" } else { "pickle" };
        return Err(EncodeErrorCode::Attribute(format!("Can't {verb} local object '{name}'")));
    }
    Ok(())
}

/// `__name__` of a global: the last component of its dotted name.
pub(crate) fn last_component(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'.') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// `fix_imports` (protocol < 3): REVERSE_NAME_MAPPING for the pair, else
/// REVERSE_IMPORT_MAPPING for the module.
pub(crate) fn fix_imports<'a>(module: &'a [u8], name: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    let (Ok(m), Ok(n)) = (std::str::from_utf8(module), std::str::from_utf8(name)) else {
        return (module, name);
    };
    if let Ok(i) = REVERSE_NAME_MAPPING.binary_search_by(|e| e.0.cmp(&(m, n))) {
        let (m2, n2) = REVERSE_NAME_MAPPING[i].1;
        return (m2.as_bytes(), n2.as_bytes());
    }
    if let Ok(i) = REVERSE_IMPORT_MAPPING.binary_search_by(|e| e.0.cmp(m)) {
        return (REVERSE_IMPORT_MAPPING[i].1.as_bytes(), name);
    }
    (module, name)
}

/// GLOBAL's identifier encoding: UTF-8 at protocol 3, ASCII below (a lone surrogate never
/// encodes).
pub(crate) fn check_identifier(what: &str, s: &[u8], proto: u8) -> Result<(), EncodeErrorCode> {
    let ok = if proto == 3 { std::str::from_utf8(s).is_ok() } else { s.is_ascii() };
    if ok {
        return Ok(());
    }
    Err(EncodeErrorCode::Pickling(format!(
        "can't pickle {what} identifier '{}' using pickle protocol {proto}",
        String::from_utf8_lossy(s)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_mapping() {
        assert_eq!(fix_imports(b"builtins", b"set"), (&b"__builtin__"[..], &b"set"[..]));
        assert_eq!(fix_imports(b"builtins", b"str"), (&b"__builtin__"[..], &b"unicode"[..]));
        assert_eq!(fix_imports(b"copyreg", b"__newobj__"), (&b"copy_reg"[..], &b"__newobj__"[..]));
        assert_eq!(fix_imports(b"mymod", b"C"), (&b"mymod"[..], &b"C"[..]));
    }
}
