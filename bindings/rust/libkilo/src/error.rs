// SPDX-License-Identifier: Apache-2.0
use libkilo_sys as sys;
use std::fmt;
use std::io;
use std::os::raw::c_int;

/// Linux's EINVAL, for the errors this crate finds before calling the library.
const EINVAL: i32 = 22;

/// A failure of libkilo: the errno and the library's message, which names
/// the field or argument and the bad value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The positive errno (EINVAL for bad input, ENOENT for a name that
    /// names nothing, ...).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The library's message, e.g. `cidr "10.0.0.0/33": prefix 33 is longer than 32`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The errno as an `std::io::ErrorKind` (`InvalidInput`, `NotFound`, ...).
    pub fn kind(&self) -> io::ErrorKind {
        io::Error::from_raw_os_error(self.code).kind()
    }

    pub(crate) fn invalid(message: String) -> Error {
        Error { code: EINVAL, message }
    }

    fn from_c(r: c_int, err: &sys::kilo_error) -> Error {
        let code = if err.code > 0 { err.code } else { -r };
        // SAFETY: the library always terminates the message (zeroed before the call).
        let message = unsafe { std::ffi::CStr::from_ptr(err.message.as_ptr()) };
        let message = match message.to_string_lossy().into_owned() {
            m if m.is_empty() => io::Error::from_raw_os_error(code).to_string(),
            m => m,
        };
        Error { code, message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

/// Calls a fallible libkilo function with a fresh `struct kilo_error` (the
/// library keeps the first message recorded in one) and turns a negative
/// return into an Error.
pub(crate) fn check(call: impl FnOnce(*mut sys::kilo_error) -> c_int) -> Result<c_int> {
    // SAFETY: a zeroed kilo_error is the empty one.
    let mut err: sys::kilo_error = unsafe { std::mem::zeroed() };
    let r = call(&mut err);
    if r < 0 {
        Err(Error::from_c(r, &err))
    } else {
        Ok(r)
    }
}
