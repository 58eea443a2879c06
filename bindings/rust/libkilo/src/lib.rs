// SPDX-License-Identifier: Apache-2.0
//! A safe Rust API for libkilo: WireGuard meshes compatible with Kilo.
//!
//! ```no_run
//! let mesh = kilo::Mesh::load("examples/meshes/three-clouds.json")?;
//! let topology = mesh.solve(Some("aws-eu-1"), &kilo::SolveOptions::default())?;
//! if topology.is_leader() {
//!     print!("{}", topology.config()?);
//! }
//! # Ok::<(), kilo::Error>(())
//! ```
//!
//! Every handle is freed when it is dropped. Threads: a [`Mesh`] and a
//! [`Topology`] are `Send` and `Sync` (every call this crate makes on them
//! takes them `const`, which kilo.h allows from several threads at once); a
//! [`Store`] is `Send` only (its calls change it); keys and CIDRs are plain
//! values.
//!
//! The compiler enforces the C API's rules on lifetimes. A topology cannot
//! outlive its mesh:
//!
//! ```compile_fail,E0597
//! let topology = {
//!     let mesh = kilo::Mesh::from_json(r#"{"version": 1}"#)?;
//!     mesh.solve(None, &kilo::SolveOptions::default())?
//! };
//! # Ok::<(), kilo::Error>(())
//! ```
//!
//! A closed store cannot be used again (nor closed twice):
//!
//! ```compile_fail,E0382
//! let mut store = kilo::Store::open("file:/tmp/kilo-doc")?;
//! store.close();
//! store.load()?;
//! # Ok::<(), kilo::Error>(())
//! ```
//!
//! and a store is not shared between threads:
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>(_: &T) {}
//! shared(&kilo::Store::open("file:/tmp/kilo-doc")?);
//! # Ok::<(), kilo::Error>(())
//! ```
//!
//! while the same programs used rightly compile:
//!
//! ```no_run
//! let mesh = kilo::Mesh::from_json(r#"{"version": 1}"#)?;
//! let topology = mesh.solve(None, &kilo::SolveOptions::default())?;
//! let mut store = kilo::Store::open("file:/tmp/kilo-doc")?;
//! store.load()?;
//! store.close();
//! fn sent<T: Send>(_: T) {}
//! sent(&topology);
//! # Ok::<(), kilo::Error>(())
//! ```

mod cstr;
mod error;
mod key;
mod mesh;
mod store;
mod topology;

/// The program of README.md, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub use error::{Error, Result};
pub use key::{Cidr, Key, PublicKey};
pub use mesh::{Granularity, Mesh};
pub use store::{Store, StoreOptions, StoreProblem, StoreReport};
pub use topology::{SolveOptions, Topology};

/// The version of the libkilo the program runs with, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    // SAFETY: kilo_version returns a static string.
    unsafe { cstr::borrowed(libkilo_sys::kilo_version()) }
}
