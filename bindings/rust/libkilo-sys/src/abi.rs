// SPDX-License-Identifier: Apache-2.0
//! The C spelling of the declarations in this crate, for the test that
//! checks them against the headers (tests/abi.rs). Each type names itself as
//! a C type name that nests inside `__typeof__(...)`, so that pointers and
//! arrays compose without C's declarator syntax.

use std::os::raw::{c_char, c_int, c_void};

pub trait CType {
    fn c_type() -> String;
}

macro_rules! c_scalars {
    ($($ty:ty => $c:literal),* $(,)?) => {$(
        impl CType for $ty {
            fn c_type() -> String { $c.into() }
        }
    )*};
}

// c_char is i8 on x86_64 (u8 elsewhere, where this table would need a cfg); c_uint is u32.
c_scalars! {
    () => "void", c_void => "void", c_char => "char", c_int => "int",
    bool => "bool", u8 => "uint8_t", u16 => "uint16_t", u32 => "uint32_t", i64 => "int64_t",
    usize => "size_t",
}

impl<T: CType> CType for *const T {
    fn c_type() -> String {
        format!("__typeof__({}) const *", T::c_type())
    }
}

impl<T: CType> CType for *mut T {
    fn c_type() -> String {
        format!("__typeof__({}) *", T::c_type())
    }
}

impl<T: CType, const N: usize> CType for [T; N] {
    fn c_type() -> String {
        format!("__typeof__({})[{}]", T::c_type(), N)
    }
}

pub struct FieldLayout {
    pub name: &'static str,
    pub c_type: fn() -> String,
    pub offset: usize,
    pub size: usize,
}

pub struct StructLayout {
    pub name: &'static str,
    pub c_type: fn() -> String,
    pub size: usize,
    pub align: usize,
    pub fields: &'static [FieldLayout],
}

pub struct FunctionSignature {
    pub name: &'static str,
    pub ret: fn() -> String,
    pub args: &'static [fn() -> String],
}
