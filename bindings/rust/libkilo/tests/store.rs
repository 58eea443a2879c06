// SPDX-License-Identifier: Apache-2.0
//! File stores through the safe API: open by URI, write, load, close.

use kilo::{Granularity, Store};
use std::path::PathBuf;

const ENOENT: i32 = 2;
const EINVAL: i32 = 22;

const NODE: &str = r#"{"name": "web-1", "location": "rack-a", "endpoint": "192.0.2.11:51821",
  "internalIP": "10.1.0.11/24", "podCIDR": "10.42.1.0/24",
  "publicKey": "CG/5qagmjODNSb4T9UjR1W4vxjufVepfTZ3KM5LmSXQ="}"#;
const PEER: &str = r#"{"name": "ci-runner", "publicKey": "qPaj68xHr+H7Rte0oF/LLFZYQjeUmZOWuKH5KIbEiUE=",
  "allowedIPs": ["10.5.1.1/32"]}"#;

/// A fresh folder for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn uri(&self) -> String {
        format!("file:{}", self.0.join("mesh").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_store_loads_what_was_put() {
    let dir = TempDir::new("put");
    let mut store = Store::open(&dir.uri()).unwrap();
    // Opening writes nothing: until the first write the folder is not there.
    let err = store.load().unwrap_err();
    assert_eq!(err.code(), ENOENT);
    assert!(err.message().contains(&format!("{}/mesh", dir.0.display())), "{err}");
    store.put_node(NODE).unwrap();
    store.put_peer(PEER).unwrap();
    let mesh = store.load().unwrap();
    store.close();
    // The mesh is the caller's: it outlives the store.
    assert_eq!(mesh.node_names(), ["web-1"]);
    assert_eq!(mesh.peer_names(), ["ci-runner"]);
    let mut again = Store::open(&dir.uri()).unwrap();
    assert_eq!(again.load().unwrap().to_json().unwrap(), mesh.to_json().unwrap());
}

#[test]
fn a_corrupt_object_is_reported_and_left_out() {
    let dir = TempDir::new("corrupt");
    let mut store = Store::open(&dir.uri()).unwrap();
    store.put_node(NODE).unwrap();
    std::fs::write(dir.0.join("mesh/nodes/broken.json"), "{\"name\": ").unwrap();
    let settings = r#"{"version": 1, "settings": {"granularity": "full"}}"#;
    let (mesh, report) = store.load_report(Some(settings)).unwrap();
    assert_eq!(mesh.node_names(), ["web-1"]);
    assert_eq!(mesh.granularity(), Granularity::Full);
    assert_eq!(report.count, 1);
    assert!(report.problems[0].path.ends_with("broken.json"), "{report:?}");
    assert!(!report.problems[0].message.is_empty());
}

#[test]
fn bad_input_to_a_store_is_an_error_naming_it() {
    let err = Store::open("gopher://mesh").unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert!(err.message().contains("gopher://mesh"), "{err}");
    let dir = TempDir::new("bad");
    let mut store = Store::open(&dir.uri()).unwrap();
    let err = store.put_node(&NODE.replace("10.42.1.0/24", "10.42.1.0/99")).unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert!(err.message().contains("10.42.1.0/99"), "{err}");
    let err = store.load_report(Some("{\"version\": 1, \"settings\": {\"granularity\": \"all\"}}")).unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert!(err.message().contains("\"all\""), "{err}");
}

#[test]
fn a_store_moves_between_threads() {
    fn send<T: Send>() {}
    send::<Store>();
    let dir = TempDir::new("thread");
    let mut store = Store::open(&dir.uri()).unwrap();
    store.put_node(NODE).unwrap();
    let count = std::thread::spawn(move || store.load().unwrap().node_count()).join().unwrap();
    assert_eq!(count, 1);
}
