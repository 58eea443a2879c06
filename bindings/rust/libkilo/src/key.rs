// SPDX-License-Identifier: Apache-2.0
//! WireGuard keys and CIDRs: plain values, thread-safe like the library's
//! functions without a handle.

use crate::cstr::{to_c, wipe};
use crate::error::check;
use crate::{Error, Result};
use libkilo_sys as sys;
use std::fmt;
use std::os::raw::c_char;
use std::str::FromStr;

/// Formats a key as base64 through the library; the buffer is wiped.
fn format_key(key: &sys::kilo_key) -> String {
    let mut text = [0 as c_char; sys::KILO_KEY_B64_LEN + 1];
    // SAFETY: text has the room kilo_key_format writes.
    unsafe { sys::kilo_key_format(key, text.as_mut_ptr()) };
    let out = text[..sys::KILO_KEY_B64_LEN].iter().map(|&c| c as u8 as char).collect();
    // SAFETY: the same memory as bytes.
    wipe(unsafe { std::slice::from_raw_parts_mut(text.as_mut_ptr().cast::<u8>(), text.len()) });
    out
}

/// Parses base64 through the library. The C copy of the text is wiped: it
/// may be a private key. Errors never quote the text.
fn parse_key(text: &str) -> Result<sys::kilo_key> {
    if text.as_bytes().contains(&0) {
        return Err(Error::invalid(format!("key: {} characters with a NUL byte", text.len())));
    }
    let mut c_text = Vec::with_capacity(text.len() + 1);
    c_text.extend_from_slice(text.as_bytes());
    c_text.push(0);
    let mut key = sys::kilo_key { bytes: [0; sys::KILO_KEY_LEN] };
    // SAFETY: c_text is terminated; key is writable.
    let r = check(|err| unsafe { sys::kilo_key_parse(c_text.as_ptr().cast(), &mut key, err) });
    wipe(&mut c_text);
    r.map(|_| key)
}

/// A WireGuard private key. It prints as `(hidden)`; its bytes are wiped
/// (kilo_key_wipe) when it is dropped. [`Key::to_base64`] spells it out.
/// Transparent: a key is its 32 bytes, nothing else (no copy elsewhere).
#[repr(transparent)]
pub struct Key {
    raw: sys::kilo_key,
}

impl Key {
    /// A new clamped Curve25519 private key, like `wg genkey`.
    pub fn generate() -> Result<Key> {
        let mut key = Key { raw: sys::kilo_key { bytes: [0; sys::KILO_KEY_LEN] } };
        // SAFETY: key.raw is writable.
        check(|err| unsafe { sys::kilo_key_generate(&mut key.raw, err) })?;
        Ok(key)
    }

    /// Parses a private key in base64 (44 characters, as `wg genkey` prints).
    pub fn parse(text: &str) -> Result<Key> {
        parse_key(text).map(|raw| Key { raw })
    }

    /// The public key, like `wg pubkey`.
    pub fn public(&self) -> Result<PublicKey> {
        let mut public = sys::kilo_key { bytes: [0; sys::KILO_KEY_LEN] };
        // SAFETY: both keys are valid.
        check(|err| unsafe { sys::kilo_key_public(&self.raw, &mut public, err) })?;
        Ok(PublicKey { raw: public })
    }

    /// The private key in base64: a secret, to write where `wg` reads it.
    pub fn to_base64(&self) -> String {
        format_key(&self.raw)
    }

    pub(crate) fn raw(&self) -> &sys::kilo_key {
        &self.raw
    }
}

impl Clone for Key {
    fn clone(&self) -> Key {
        Key { raw: self.raw }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: raw is a valid key.
        unsafe { sys::kilo_key_wipe(&mut self.raw) };
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key((hidden))")
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(hidden)")
    }
}

impl FromStr for Key {
    type Err = Error;
    fn from_str(text: &str) -> Result<Key> {
        Key::parse(text)
    }
}

/// A WireGuard public key; it prints as base64.
#[derive(Clone, Copy)]
pub struct PublicKey {
    raw: sys::kilo_key,
}

impl PublicKey {
    pub fn parse(text: &str) -> Result<PublicKey> {
        parse_key(text).map(|raw| PublicKey { raw })
    }

    pub fn as_bytes(&self) -> &[u8; sys::KILO_KEY_LEN] {
        &self.raw.bytes
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.raw.bytes == other.raw.bytes
    }
}

impl Eq for PublicKey {}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_key(&self.raw))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = Error;
    fn from_str(text: &str) -> Result<PublicKey> {
        PublicKey::parse(text)
    }
}

/// An IP address with a prefix length ("10.4.0.0/16"), host bits kept.
#[derive(Clone, Copy)]
pub struct Cidr {
    raw: sys::kilo_cidr,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr> {
        let c_text = to_c("cidr", text)?;
        // SAFETY: a zeroed kilo_cidr is valid (family 0).
        let mut raw: sys::kilo_cidr = unsafe { std::mem::zeroed() };
        // SAFETY: c_text is terminated; raw is writable.
        check(|err| unsafe { sys::kilo_cidr_parse(c_text.as_ptr(), &mut raw, err) })?;
        Ok(Cidr { raw })
    }

    pub fn prefix(&self) -> u8 {
        self.raw.prefix
    }
}

impl PartialEq for Cidr {
    fn eq(&self, other: &Cidr) -> bool {
        let (a, b) = (&self.raw, &other.raw);
        a.addr.family == b.addr.family && a.addr.bytes == b.addr.bytes && a.prefix == b.prefix
    }
}

impl Eq for Cidr {}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0 as c_char; sys::KILO_CIDR_STRLEN];
        // SAFETY: text has the room kilo_cidr_format writes, and it terminates it.
        let text = unsafe {
            sys::kilo_cidr_format(&self.raw, text.as_mut_ptr());
            std::ffi::CStr::from_ptr(text.as_ptr())
        };
        f.write_str(&text.to_string_lossy())
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cidr({self})")
    }
}

impl FromStr for Cidr {
    type Err = Error;
    fn from_str(text: &str) -> Result<Cidr> {
        Cidr::parse(text)
    }
}
