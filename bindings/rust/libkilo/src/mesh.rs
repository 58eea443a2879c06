// SPDX-License-Identifier: Apache-2.0
//! The mesh: nodes, peers and settings, read from a mesh document.

use crate::cstr::{borrowed, take, to_c};
use crate::error::check;
use crate::topology::{SolveOptions, Topology};
use crate::{Error, Result};
use libkilo_sys as sys;
use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::str::FromStr;

/// How the nodes of a mesh form segments (one WireGuard peer each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One segment per location (Kilo's default).
    Location,
    /// One segment per node.
    Full,
    /// One segment per node, no tunnels inside a location.
    Cross,
}

impl Granularity {
    pub(crate) fn to_raw(self) -> sys::kilo_granularity {
        match self {
            Granularity::Location => sys::KILO_GRANULARITY_LOCATION,
            Granularity::Full => sys::KILO_GRANULARITY_FULL,
            Granularity::Cross => sys::KILO_GRANULARITY_CROSS,
        }
    }

    fn from_raw(raw: sys::kilo_granularity) -> Granularity {
        match raw {
            sys::KILO_GRANULARITY_FULL => Granularity::Full,
            sys::KILO_GRANULARITY_CROSS => Granularity::Cross,
            _ => Granularity::Location,
        }
    }
}

impl FromStr for Granularity {
    type Err = Error;
    /// "location", "full" or "cross".
    fn from_str(text: &str) -> Result<Granularity> {
        let c_text = to_c("granularity", text)?;
        let mut raw = sys::KILO_GRANULARITY_LOCATION;
        // SAFETY: c_text is terminated; raw is writable.
        check(|err| unsafe { sys::kilo_granularity_parse(c_text.as_ptr(), &mut raw, err) })?;
        Ok(Granularity::from_raw(raw))
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: kilo_granularity_name returns a static string.
        f.write_str(unsafe { borrowed(sys::kilo_granularity_name(self.to_raw())) })
    }
}

/// A mesh, freed when dropped. Solving it borrows it: a [`Topology`] cannot
/// outlive its mesh, as the C API requires.
pub struct Mesh {
    raw: NonNull<sys::kilo_mesh>,
}

// SAFETY: kilo.h: a handle may move between threads, and calls that take it
// const may share it; every method here takes the mesh const.
unsafe impl Send for Mesh {}
unsafe impl Sync for Mesh {}

impl Mesh {
    fn new(load: impl FnOnce(*mut *mut sys::kilo_mesh, *mut sys::kilo_error) -> i32) -> Result<Mesh> {
        let mut raw = ptr::null_mut();
        check(|err| load(&mut raw, err))?;
        Mesh::from_raw(raw)
    }

    /// Takes a mesh the library returned.
    pub(crate) fn from_raw(raw: *mut sys::kilo_mesh) -> Result<Mesh> {
        NonNull::new(raw)
            .map(|raw| Mesh { raw })
            .ok_or_else(|| Error::invalid("mesh: the library returned none".into()))
    }

    /// Reads the mesh document at `path`; errors name the path and the field.
    pub fn load(path: impl AsRef<Path>) -> Result<Mesh> {
        let path = path.as_ref();
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::invalid(format!("path {path:?}: has a NUL byte")))?;
        // SAFETY: c_path is terminated; the out pointer is writable.
        Mesh::new(|out, err| unsafe { sys::kilo_mesh_load_file(c_path.as_ptr(), out, err) })
    }

    /// Reads a mesh document from JSON text.
    pub fn from_json(text: &str) -> Result<Mesh> {
        // SAFETY: text is len bytes; the out pointer is writable.
        Mesh::new(|out, err| unsafe { sys::kilo_mesh_from_json(text.as_ptr().cast(), text.len(), out, err) })
    }

    /// The mesh as a document (pretty-printed JSON).
    pub fn to_json(&self) -> Result<String> {
        let mut text = ptr::null_mut();
        // SAFETY: the mesh is valid; text receives a string to kilo_free.
        check(|err| unsafe { sys::kilo_mesh_to_json(self.raw.as_ptr(), &mut text, err) })?;
        // SAFETY: text came from the library and is not used again.
        Ok(unsafe { take(text, false) })
    }

    pub fn node_count(&self) -> usize {
        // SAFETY: the mesh is valid.
        unsafe { sys::kilo_mesh_node_count(self.raw.as_ptr()) }
    }

    pub fn peer_count(&self) -> usize {
        // SAFETY: the mesh is valid.
        unsafe { sys::kilo_mesh_peer_count(self.raw.as_ptr()) }
    }

    /// The names of the nodes, in the mesh's order.
    pub fn node_names(&self) -> Vec<&str> {
        // SAFETY: the names are owned by the mesh, which self borrows.
        (0..self.node_count()).map(|i| unsafe { borrowed(sys::kilo_mesh_node_name(self.raw.as_ptr(), i)) }).collect()
    }

    /// The names of the peers, in the mesh's order.
    pub fn peer_names(&self) -> Vec<&str> {
        // SAFETY: the names are owned by the mesh, which self borrows.
        (0..self.peer_count()).map(|i| unsafe { borrowed(sys::kilo_mesh_peer_name(self.raw.as_ptr(), i)) }).collect()
    }

    pub fn granularity(&self) -> Granularity {
        // SAFETY: the mesh is valid.
        Granularity::from_raw(unsafe { sys::kilo_mesh_granularity(self.raw.as_ptr()) })
    }

    /// Solves the mesh for the node named `node`, or from outside the mesh
    /// with `None` (what `kgctl graph` and `kgctl connect` use). A name that
    /// is no node of the mesh is an error (ENOENT) naming it.
    pub fn solve(&self, node: Option<&str>, opts: &SolveOptions) -> Result<Topology<'_>> {
        Topology::solve(self, node, opts)
    }

    pub(crate) fn raw(&self) -> *const sys::kilo_mesh {
        self.raw.as_ptr()
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        // SAFETY: the mesh is valid and freed once; topologies borrowing it are gone.
        unsafe { sys::kilo_mesh_free(self.raw.as_ptr()) };
    }
}

impl fmt::Debug for Mesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mesh").field("nodes", &self.node_names()).field("peers", &self.peer_names()).finish()
    }
}

impl FromStr for Mesh {
    type Err = Error;
    fn from_str(text: &str) -> Result<Mesh> {
        Mesh::from_json(text)
    }
}
