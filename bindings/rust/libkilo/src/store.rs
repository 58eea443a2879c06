// SPDX-License-Identifier: Apache-2.0
//! Stores: where the nodes and peers of a mesh live ("file:DIR", "etcd://...").

use crate::cstr::to_c;
use crate::error::check;
use crate::{Error, Mesh, Result};
use libkilo_sys as sys;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr::{self, NonNull};

/// What a store needs besides its URI: etcd's TLS files and credentials,
/// which override the URI's parameters of the same names.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    pub etcd_cacert: Option<PathBuf>,
    pub etcd_cert: Option<PathBuf>,
    pub etcd_key: Option<PathBuf>,
    pub etcd_user: Option<String>,
    /// The password is read from this file (never from the URI).
    pub etcd_password_file: Option<PathBuf>,
    /// Seconds a node's heartbeat keeps it in a loaded mesh (kg's `--ready-window`);
    /// `None`: the library's default.
    pub ready_window: Option<u32>,
}

/// A file the store could not read as a node or peer; the load left it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreProblem {
    pub path: String,
    pub message: String,
}

/// What a load left out: the first problems, and how many there were.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub problems: Vec<StoreProblem>,
    pub count: usize,
}

/// An open store, closed when dropped or by [`Store::close`]. It is `Send`
/// but not `Sync`: its calls change it, one thread at a time.
pub struct Store {
    raw: NonNull<sys::kilo_store>,
}

// SAFETY: kilo.h: a handle may be used on any thread, one at a time.
unsafe impl Send for Store {}

fn path_to_c(what: &str, path: &Option<PathBuf>) -> Result<Option<CString>> {
    path.as_ref()
        .map(|p| {
            CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::invalid(format!("{what} {p:?}: has a NUL byte")))
        })
        .transpose()
}

fn option_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

fn text_of(chars: &[c_char]) -> String {
    // SAFETY: the library terminates the fields of a report.
    unsafe { CStr::from_ptr(chars.as_ptr()) }.to_string_lossy().into_owned()
}

impl Store {
    /// Opens the store named by `uri`: "file:DIR", or
    /// "etcd://HOST:PORT[,HOST:PORT...][/CLUSTER][?PARAMS]".
    pub fn open(uri: &str) -> Result<Store> {
        Store::open_with(uri, &StoreOptions::default())
    }

    pub fn open_with(uri: &str, opts: &StoreOptions) -> Result<Store> {
        let c_uri = to_c("uri", uri)?;
        let cacert = path_to_c("etcd cacert", &opts.etcd_cacert)?;
        let cert = path_to_c("etcd cert", &opts.etcd_cert)?;
        let key = path_to_c("etcd key", &opts.etcd_key)?;
        let user = opts.etcd_user.as_deref().map(|u| to_c("etcd user", u)).transpose()?;
        let password_file = path_to_c("etcd password file", &opts.etcd_password_file)?;
        let raw_opts = sys::kilo_store_opts {
            sz: std::mem::size_of::<sys::kilo_store_opts>(),
            etcd_cacert: option_ptr(&cacert),
            etcd_cert: option_ptr(&cert),
            etcd_key: option_ptr(&key),
            etcd_user: option_ptr(&user),
            etcd_password_file: option_ptr(&password_file),
            ready_window: opts.ready_window.unwrap_or(0),
        };
        let mut raw = ptr::null_mut();
        // SAFETY: the strings live through the call; raw receives a store to close.
        check(|err| unsafe { sys::kilo_store_open_opts(c_uri.as_ptr(), &raw_opts, &mut raw, err) })?;
        NonNull::new(raw)
            .map(|raw| Store { raw })
            .ok_or_else(|| Error::invalid("store: the library returned none".into()))
    }

    /// Reads every node and peer into a new mesh with the default settings.
    /// Objects it cannot read are left out (see [`Store::load_report`]).
    pub fn load(&mut self) -> Result<Mesh> {
        self.load_report(None).map(|(mesh, _)| mesh)
    }

    /// Reads every node and peer into a new mesh with `settings` (a mesh
    /// document that holds only "settings"; None: the defaults), and says
    /// what it left out.
    pub fn load_report(&mut self, settings: Option<&str>) -> Result<(Mesh, StoreReport)> {
        let c_settings = settings.map(|s| to_c("settings", s)).transpose()?;
        // SAFETY: a zeroed report is the empty one.
        let mut report: Box<sys::kilo_store_report> = Box::new(unsafe { std::mem::zeroed() });
        let mut raw = ptr::null_mut();
        // SAFETY: the store is valid; the settings live through the call.
        check(|err| unsafe {
            sys::kilo_store_load(self.raw.as_ptr(), option_ptr(&c_settings), &mut raw, &mut *report, err)
        })?;
        let mesh = Mesh::from_raw(raw)?;
        let kept = report.n_problems.min(report.problems.len());
        let problems = report.problems[..kept]
            .iter()
            .map(|p| StoreProblem { path: text_of(&p.path), message: text_of(&p.message) })
            .collect();
        Ok((mesh, StoreReport { problems, count: report.n_problems }))
    }

    /// Writes one node, given as a mesh document node object (JSON).
    pub fn put_node(&mut self, node_json: &str) -> Result<()> {
        let c_json = to_c("node", node_json)?;
        // SAFETY: the store is valid; the text lives through the call.
        check(|err| unsafe { sys::kilo_store_put_node(self.raw.as_ptr(), c_json.as_ptr(), err) }).map(|_| ())
    }

    /// Writes one peer, given as a mesh document peer object (JSON).
    pub fn put_peer(&mut self, peer_json: &str) -> Result<()> {
        let c_json = to_c("peer", peer_json)?;
        // SAFETY: the store is valid; the text lives through the call.
        check(|err| unsafe { sys::kilo_store_put_peer(self.raw.as_ptr(), c_json.as_ptr(), err) }).map(|_| ())
    }

    /// Closes the store now; dropping it does the same. A closed store
    /// cannot be used again: this takes it.
    pub fn close(self) {}
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: the store is valid and closed once.
        unsafe { sys::kilo_store_close(self.raw.as_ptr()) };
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
