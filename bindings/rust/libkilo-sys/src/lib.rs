// SPDX-License-Identifier: Apache-2.0
//! Raw declarations of the parts of libkilo's C API (`<kilo/kilo.h>`) that
//! the safe `libkilo` crate uses. Every struct and function is declared
//! once, through the macros below, which also record its C spelling: the
//! crate's tests compile those records against the installed headers
//! (tests/abi.rs), so a struct or signature that drifts fails the tests.
//!
//! Everything here is `unsafe` to call; the rules (who frees what, which
//! handle may be shared) are the headers' comments.
#![allow(non_camel_case_types)]

pub mod abi;

use abi::CType;
pub use std::os::raw::{c_char, c_int, c_uint, c_void};

/// Declares opaque handle types (`typedef struct kilo_x kilo_x;`).
macro_rules! c_opaque {
    ($($name:ident),* $(,)?) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            _not_send_sync_unpin: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
        }
        impl CType for $name {
            fn c_type() -> String { stringify!($name).into() }
        }
    )*};
}

/// Declares C enums as transparent integers, so that any value the library
/// returns is a valid Rust value.
macro_rules! c_enum {
    ($($name:ident { $($variant:ident = $value:expr),* $(,)? })*) => {$(
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(pub c_uint);
        $(pub const $variant: $name = $name($value);)*
        impl CType for $name {
            fn c_type() -> String { concat!("enum ", stringify!($name)).into() }
        }
    )*};
}

/// Declares `#[repr(C)]` structs and records their layout in `abi::STRUCTS`.
macro_rules! c_structs {
    ($($(#[$meta:meta])* pub struct $name:ident { $(pub $field:ident: $ty:ty),* $(,)? })*) => {
        $(
            $(#[$meta])*
            #[repr(C)]
            #[derive(Clone, Copy)]
            pub struct $name { $(pub $field: $ty),* }
            impl CType for $name {
                fn c_type() -> String { concat!("struct ", stringify!($name)).into() }
            }
        )*
        /// The layout of every struct declared here, as Rust computes it.
        pub const STRUCTS: &[abi::StructLayout] = &[$(abi::StructLayout {
            name: stringify!($name),
            c_type: <$name as CType>::c_type,
            size: core::mem::size_of::<$name>(),
            align: core::mem::align_of::<$name>(),
            fields: &[$(abi::FieldLayout {
                name: stringify!($field),
                c_type: <$ty as CType>::c_type,
                offset: core::mem::offset_of!($name, $field),
                size: core::mem::size_of::<$ty>(),
            }),*],
        }),*];
    };
}

macro_rules! c_return {
    () => {
        <() as CType>::c_type
    };
    ($ty:ty) => {
        <$ty as CType>::c_type
    };
}

/// Declares the functions and records their signatures in `abi::FUNCTIONS`.
macro_rules! c_functions {
    ($($(#[$meta:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $($(#[$meta])* pub fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        /// The signature of every function declared here, as Rust declares it.
        pub const FUNCTIONS: &[abi::FunctionSignature] = &[$(abi::FunctionSignature {
            name: stringify!($name),
            ret: c_return!($($ret)?),
            args: &[$(<$ty as CType>::c_type),*],
        }),*];
    };
}

c_opaque!(kilo_mesh, kilo_topology, kilo_wg_config, kilo_store);

c_enum! {
    kilo_granularity {
        KILO_GRANULARITY_LOCATION = 0,
        KILO_GRANULARITY_FULL = 1,
        KILO_GRANULARITY_CROSS = 2,
    }
}

pub const KILO_ERROR_MESSAGE_MAX: usize = 512;
pub const KILO_KEY_LEN: usize = 32;
pub const KILO_KEY_B64_LEN: usize = 44;
pub const KILO_CIDR_STRLEN: usize = 50;

c_structs! {
    pub struct kilo_error {
        pub code: c_int,
        pub message: [c_char; KILO_ERROR_MESSAGE_MAX],
    }
    pub struct kilo_addr {
        pub family: u8,
        pub bytes: [u8; 16],
    }
    pub struct kilo_cidr {
        pub addr: kilo_addr,
        pub prefix: u8,
    }
    pub struct kilo_key {
        pub bytes: [u8; KILO_KEY_LEN],
    }
    pub struct kilo_solve_opts {
        pub sz: usize,
        pub hostname: *const c_char,
        pub private_key: *const kilo_key,
        pub port: u16,
        pub override_keepalive: bool,
        pub persistent_keepalive: u32,
        pub now: i64,
        pub override_granularity: bool,
        pub granularity: kilo_granularity,
        pub ready_window: u32,
        pub remote_ready_grace: u32,
    }
    pub struct kilo_store_opts {
        pub sz: usize,
        pub etcd_cacert: *const c_char,
        pub etcd_cert: *const c_char,
        pub etcd_key: *const c_char,
        pub etcd_user: *const c_char,
        pub etcd_password_file: *const c_char,
        pub ready_window: u32,
    }
    pub struct kilo_store_problem {
        pub path: [c_char; 256],
        pub message: [c_char; KILO_ERROR_MESSAGE_MAX],
    }
    pub struct kilo_store_report {
        pub n_problems: usize,
        pub problems: [kilo_store_problem; 16],
    }
}

c_functions! {
    pub fn kilo_version() -> *const c_char;
    pub fn kilo_free(ptr: *mut c_void);

    pub fn kilo_cidr_parse(text: *const c_char, out: *mut kilo_cidr, err: *mut kilo_error) -> c_int;
    pub fn kilo_cidr_format(cidr: *const kilo_cidr, out: *mut c_char);

    pub fn kilo_key_parse(text: *const c_char, out: *mut kilo_key, err: *mut kilo_error) -> c_int;
    pub fn kilo_key_format(key: *const kilo_key, out: *mut c_char);
    pub fn kilo_key_generate(private_key: *mut kilo_key, err: *mut kilo_error) -> c_int;
    pub fn kilo_key_public(private_key: *const kilo_key, public_key: *mut kilo_key, err: *mut kilo_error) -> c_int;
    pub fn kilo_key_wipe(key: *mut kilo_key);

    pub fn kilo_granularity_parse(text: *const c_char, out: *mut kilo_granularity, err: *mut kilo_error) -> c_int;
    pub fn kilo_granularity_name(granularity: kilo_granularity) -> *const c_char;

    pub fn kilo_mesh_from_json(text: *const c_char, len: usize, out: *mut *mut kilo_mesh, err: *mut kilo_error) -> c_int;
    pub fn kilo_mesh_load_file(path: *const c_char, out: *mut *mut kilo_mesh, err: *mut kilo_error) -> c_int;
    pub fn kilo_mesh_to_json(mesh: *const kilo_mesh, out: *mut *mut c_char, err: *mut kilo_error) -> c_int;
    pub fn kilo_mesh_free(mesh: *mut kilo_mesh);
    pub fn kilo_mesh_node_count(mesh: *const kilo_mesh) -> usize;
    pub fn kilo_mesh_peer_count(mesh: *const kilo_mesh) -> usize;
    pub fn kilo_mesh_node_name(mesh: *const kilo_mesh, i: usize) -> *const c_char;
    pub fn kilo_mesh_peer_name(mesh: *const kilo_mesh, i: usize) -> *const c_char;
    pub fn kilo_mesh_granularity(mesh: *const kilo_mesh) -> kilo_granularity;

    pub fn kilo_topology_solve(mesh: *const kilo_mesh, opts: *const kilo_solve_opts, out: *mut *mut kilo_topology,
                               err: *mut kilo_error) -> c_int;
    pub fn kilo_topology_free(topology: *mut kilo_topology);
    pub fn kilo_topology_is_leader(topology: *const kilo_topology) -> bool;
    pub fn kilo_topology_segment_count(topology: *const kilo_topology) -> usize;
    pub fn kilo_topology_conf(topology: *const kilo_topology, out: *mut *mut kilo_wg_config, err: *mut kilo_error) -> c_int;
    pub fn kilo_topology_peer_conf(topology: *const kilo_topology, peer_name: *const c_char,
                                   out: *mut *mut kilo_wg_config, err: *mut kilo_error) -> c_int;
    pub fn kilo_topology_dot(topology: *const kilo_topology, out: *mut *mut c_char, err: *mut kilo_error) -> c_int;

    pub fn kilo_wg_config_format(config: *const kilo_wg_config, out: *mut *mut c_char, err: *mut kilo_error) -> c_int;
    pub fn kilo_wg_config_free(config: *mut kilo_wg_config);

    pub fn kilo_store_open(uri: *const c_char, out: *mut *mut kilo_store, err: *mut kilo_error) -> c_int;
    pub fn kilo_store_open_opts(uri: *const c_char, opts: *const kilo_store_opts, out: *mut *mut kilo_store,
                                err: *mut kilo_error) -> c_int;
    pub fn kilo_store_close(store: *mut kilo_store);
    pub fn kilo_store_load(store: *mut kilo_store, settings: *const c_char, out: *mut *mut kilo_mesh,
                           report: *mut kilo_store_report, err: *mut kilo_error) -> c_int;
    pub fn kilo_store_put_node(store: *mut kilo_store, node_json: *const c_char, err: *mut kilo_error) -> c_int;
    pub fn kilo_store_put_peer(store: *mut kilo_store, peer_json: *const c_char, err: *mut kilo_error) -> c_int;
}
