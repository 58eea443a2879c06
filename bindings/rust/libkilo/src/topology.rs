// SPDX-License-Identifier: Apache-2.0
//! A solved mesh: the view of one node, or from outside, and what it renders.

use crate::cstr::{take, to_c};
use crate::error::check;
use crate::{Error, Granularity, Key, Mesh, Result};
use libkilo_sys as sys;
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::ptr::{self, NonNull};

/// What `Mesh::solve` may change; the default is Kilo's. Build it with
/// `SolveOptions { port: Some(51821), ..Default::default() }`.
#[derive(Clone, Debug, Default)]
pub struct SolveOptions {
    /// The local private key, printed in the node's configuration; None: none.
    pub private_key: Option<Key>,
    /// The listen port; None: the mesh settings' port.
    pub port: Option<u16>,
    /// The keepalive of every peer of the local configuration, in seconds;
    /// None: the local node's own.
    pub persistent_keepalive: Option<u32>,
    /// Unix seconds: when set, nodes last seen `ready_window` seconds or more
    /// before it are left out.
    pub now: Option<i64>,
    /// Overrides the mesh's granularity.
    pub granularity: Option<Granularity>,
    /// The liveness window in seconds; None: Kilo's 60.
    pub ready_window: Option<u32>,
    /// Seconds a node of another location stays ready past the window.
    pub remote_ready_grace: u32,
}

/// A solved mesh. It borrows its mesh (the C API requires the mesh to
/// outlive the topology) and is freed when dropped.
pub struct Topology<'mesh> {
    raw: NonNull<sys::kilo_topology>,
    _mesh: PhantomData<&'mesh Mesh>,
}

// SAFETY: kilo.h: a handle may move between threads, and calls that take it
// const may share it; every method here takes the topology const.
unsafe impl Send for Topology<'_> {}
unsafe impl Sync for Topology<'_> {}

/// A kilo_wg_config, freed (its keys wiped) when dropped.
struct WgConfig(*mut sys::kilo_wg_config);

impl Drop for WgConfig {
    fn drop(&mut self) {
        // SAFETY: NULL or a configuration from the library, freed once.
        unsafe { sys::kilo_wg_config_free(self.0) };
    }
}

impl WgConfig {
    /// The configuration as Kilo prints it; it may hold a private key.
    fn format(&self) -> Result<String> {
        let mut text: *mut c_char = ptr::null_mut();
        // SAFETY: the configuration is valid; text receives a string to kilo_free.
        check(|err| unsafe { sys::kilo_wg_config_format(self.0, &mut text, err) })?;
        // SAFETY: text came from the library and is not used again.
        Ok(unsafe { take(text, true) })
    }
}

impl<'mesh> Topology<'mesh> {
    pub(crate) fn solve(mesh: &'mesh Mesh, node: Option<&str>, opts: &SolveOptions) -> Result<Topology<'mesh>> {
        let hostname: Option<CString> = node.map(|n| to_c("hostname", n)).transpose()?;
        // SAFETY: a zeroed kilo_solve_opts is the defaults.
        let mut raw_opts: sys::kilo_solve_opts = unsafe { std::mem::zeroed() };
        raw_opts.sz = std::mem::size_of::<sys::kilo_solve_opts>();
        raw_opts.hostname = hostname.as_ref().map_or(ptr::null(), |h| h.as_ptr());
        raw_opts.private_key = opts.private_key.as_ref().map_or(ptr::null(), |k| k.raw());
        raw_opts.port = opts.port.unwrap_or(0);
        raw_opts.override_keepalive = opts.persistent_keepalive.is_some();
        raw_opts.persistent_keepalive = opts.persistent_keepalive.unwrap_or(0);
        raw_opts.now = opts.now.unwrap_or(0);
        raw_opts.override_granularity = opts.granularity.is_some();
        raw_opts.granularity = opts.granularity.map_or(sys::KILO_GRANULARITY_LOCATION, Granularity::to_raw);
        raw_opts.ready_window = opts.ready_window.unwrap_or(0);
        raw_opts.remote_ready_grace = opts.remote_ready_grace;
        let mut raw = ptr::null_mut();
        // SAFETY: the mesh outlives the topology ('mesh); the options and
        // what they point to live through the call, which copies them.
        check(|err| unsafe { sys::kilo_topology_solve(mesh.raw(), &raw_opts, &mut raw, err) })?;
        NonNull::new(raw)
            .map(|raw| Topology { raw, _mesh: PhantomData })
            .ok_or_else(|| Error::invalid("topology: the library returned none".into()))
    }

    /// Whether the local node leads its segment (only leaders run tunnels).
    pub fn is_leader(&self) -> bool {
        // SAFETY: the topology is valid.
        unsafe { sys::kilo_topology_is_leader(self.raw.as_ptr()) }
    }

    pub fn segment_count(&self) -> usize {
        // SAFETY: the topology is valid.
        unsafe { sys::kilo_topology_segment_count(self.raw.as_ptr()) }
    }

    /// The node's WireGuard configuration as Kilo prints it (`wg setconf`'s
    /// format); it holds the private key given in the options.
    pub fn config(&self) -> Result<String> {
        let mut config = WgConfig(ptr::null_mut());
        // SAFETY: the topology is valid; config receives a configuration to free.
        check(|err| unsafe { sys::kilo_topology_conf(self.raw.as_ptr(), &mut config.0, err) })?;
        config.format()
    }

    /// The configuration of the mesh's peer named `name` (Kilo's PeerConf).
    /// A name that is no peer of the mesh is an error (ENOENT) naming it.
    pub fn peer_config(&self, name: &str) -> Result<String> {
        let c_name = to_c("peer", name)?;
        let mut config = WgConfig(ptr::null_mut());
        // SAFETY: the topology is valid; config receives a configuration to free.
        check(|err| unsafe { sys::kilo_topology_peer_conf(self.raw.as_ptr(), c_name.as_ptr(), &mut config.0, err) })?;
        config.format()
    }

    /// The topology as GraphViz DOT, byte for byte as Kilo's.
    pub fn graph(&self) -> Result<String> {
        let mut text = ptr::null_mut();
        // SAFETY: the topology is valid; text receives a string to kilo_free.
        check(|err| unsafe { sys::kilo_topology_dot(self.raw.as_ptr(), &mut text, err) })?;
        // SAFETY: text came from the library and is not used again.
        Ok(unsafe { take(text, false) })
    }
}

impl Drop for Topology<'_> {
    fn drop(&mut self) {
        // SAFETY: the topology is valid and freed once.
        unsafe { sys::kilo_topology_free(self.raw.as_ptr()) };
    }
}

impl std::fmt::Debug for Topology<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology").field("leader", &self.is_leader()).field("segments", &self.segment_count()).finish()
    }
}
