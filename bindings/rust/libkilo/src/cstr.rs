// SPDX-License-Identifier: Apache-2.0
//! Strings across the C boundary: borrowed from the library, owned by it
//! (freed with kilo_free), and Rust text handed to it.

use crate::{Error, Result};
use libkilo_sys as sys;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;

/// A Rust string as a C one; `what` names it in the error for an inner NUL.
pub(crate) fn to_c(what: &str, text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::invalid(format!("{what} {text:?}: has a NUL byte")))
}

/// A string the library owns (a name in a mesh); "" if it is NULL or not
/// UTF-8, which a mesh document (JSON) cannot hold.
///
/// # Safety
/// `p` is NULL or a terminated string that lives for `'a`.
pub(crate) unsafe fn borrowed<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "";
    }
    CStr::from_ptr(p).to_str().unwrap_or("")
}

/// Overwrites bytes in a way the compiler cannot elide.
pub(crate) fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: b is a valid, aligned reference.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Copies a string the library allocated and frees it; with `secret`, the
/// library's copy is wiped first (a configuration holds the private key).
///
/// # Safety
/// `p` is a terminated string allocated by libkilo, not used afterwards.
pub(crate) unsafe fn take(p: *mut c_char, secret: bool) -> String {
    if p.is_null() {
        return String::new();
    }
    let bytes = CStr::from_ptr(p).to_bytes();
    let (text, len) = (String::from_utf8_lossy(bytes).into_owned(), bytes.len());
    if secret {
        wipe(std::slice::from_raw_parts_mut(p.cast::<u8>(), len));
    }
    sys::kilo_free(p.cast());
    text
}
