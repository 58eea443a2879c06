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

mod cstr;
mod error;
mod key;
mod mesh;
mod store;
mod topology;

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
