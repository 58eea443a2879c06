// SPDX-License-Identifier: Apache-2.0
//! Keys and CIDRs through the safe API.

use kilo::{Cidr, Key, PublicKey};
use std::mem::ManuallyDrop;

const EINVAL: i32 = 22;
const FIXED_PRIVATE_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

#[test]
fn a_private_key_gives_its_public_key() {
    let key = Key::parse(FIXED_PRIVATE_KEY).unwrap();
    assert_eq!(key.to_base64(), FIXED_PRIVATE_KEY);
    let public = key.public().unwrap();
    // `echo AQEB...AQE= | wg pubkey`
    assert_eq!(public.to_string(), "pOCSkrZRwni5dyxWn1+puxPZBrRqtoyd+dwrRAn4ogk=");
    assert_eq!(public.to_string().parse::<PublicKey>().unwrap(), public);
}

#[test]
fn generated_keys_differ() {
    let a = Key::generate().unwrap();
    let b = Key::generate().unwrap();
    assert_ne!(a.to_base64(), b.to_base64());
    assert_ne!(a.public().unwrap(), b.public().unwrap());
    assert_eq!(Key::parse(&a.to_base64()).unwrap().public().unwrap(), a.public().unwrap());
}

#[test]
fn a_private_key_never_prints() {
    let key = Key::parse(FIXED_PRIVATE_KEY).unwrap();
    let shown =
        format!("{key} {key:?} {:?}", kilo::SolveOptions { private_key: Some(key.clone()), ..Default::default() });
    assert!(!shown.contains(FIXED_PRIVATE_KEY), "{shown}");
    assert!(!shown.contains("AQEB"), "{shown}");
    assert!(shown.contains("(hidden)"), "{shown}");
}

#[test]
fn a_dropped_key_is_wiped() {
    let mut key = ManuallyDrop::new(Key::parse(FIXED_PRIVATE_KEY).unwrap());
    let bytes = &*key as *const Key as *const [u8; 32];
    // SAFETY: Key is transparent over its 32 bytes, which ManuallyDrop keeps in place after the drop.
    unsafe {
        assert_eq!(*bytes, [1u8; 32]);
        ManuallyDrop::drop(&mut key);
        assert_eq!(std::ptr::read_volatile(bytes), [0u8; 32]);
    }
}

#[test]
fn a_bad_key_is_an_error_that_does_not_quote_it() {
    for text in
        ["", "AQEB", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA\0E="]
    {
        let err = Key::parse(text).unwrap_err();
        assert_eq!(err.code(), EINVAL, "{text:?}");
        assert!(err.message().starts_with("key"), "{err}");
        assert!(text.len() < 4 || !err.message().contains(text), "{err}");
        assert!(PublicKey::parse(text).is_err());
    }
}

#[test]
fn a_cidr_parses_and_a_bad_one_is_named() {
    let cidr: Cidr = "10.4.0.1/16".parse().unwrap();
    assert_eq!(cidr.to_string(), "10.4.0.1/16");
    assert_eq!(cidr.prefix(), 16);
    let err = Cidr::parse("10.0.0.0/33").unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert_eq!(err.message(), "cidr \"10.0.0.0/33\": prefix 33 is longer than 32");
}
