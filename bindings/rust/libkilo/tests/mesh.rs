// SPDX-License-Identifier: Apache-2.0
//! Meshes and topologies through the safe API, against the installed library.

use kilo::{Granularity, Key, Mesh, SolveOptions};
use std::io::ErrorKind;

const ENOENT: i32 = 2;
const EINVAL: i32 = 22;

fn mesh_path(name: &str) -> String {
    format!("{}/../../../examples/meshes/{name}.json", env!("CARGO_MANIFEST_DIR"))
}

fn three_clouds() -> Mesh {
    Mesh::load(mesh_path("three-clouds")).unwrap()
}

#[test]
fn load_reads_names_in_order() {
    let mesh = three_clouds();
    assert_eq!(mesh.node_count(), 10);
    assert_eq!(&mesh.node_names()[..3], ["aws-eu-1", "aws-eu-2", "aws-eu-3"]);
    assert_eq!(mesh.peer_names(), ["laptop", "office-router"]);
    assert_eq!(mesh.granularity(), Granularity::Location);
    assert_eq!(Mesh::load(mesh_path("full-mesh")).unwrap().granularity(), Granularity::Full);
}

#[test]
fn json_round_trips() {
    let json = three_clouds().to_json().unwrap();
    let again: Mesh = json.parse().unwrap();
    assert_eq!(again.to_json().unwrap(), json);
    assert_eq!(again.node_names(), three_clouds().node_names());
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = Mesh::load("/nonexistent/mesh.json").unwrap_err();
    assert_eq!(err.code(), ENOENT);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("/nonexistent/mesh.json"), "{err}");
}

#[test]
fn a_bad_field_is_an_error_naming_field_and_value() {
    let json = three_clouds().to_json().unwrap().replacen("10.244.0.0/24", "10.244.0.0/33", 1);
    let err = Mesh::from_json(&json).unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("nodes[0].podCIDR"), "{err}");
    assert!(err.message().contains("10.244.0.0/33"), "{err}");
    assert_eq!(err.to_string(), err.message());
}

#[test]
fn text_that_is_no_mesh_is_an_error() {
    for text in ["", "{", "[]", "{\"version\": 2}", "{\"version\": 1, \"nodes\": 7}", "\0"] {
        let err = Mesh::from_json(text).unwrap_err();
        assert_eq!(err.code(), EINVAL, "{text:?}: {err}");
        assert!(!err.message().is_empty(), "{text:?}");
    }
}

#[test]
fn a_leader_renders_its_config() {
    let mesh = three_clouds();
    let topology = mesh.solve(Some("aws-eu-1"), &SolveOptions::default()).unwrap();
    assert!(topology.is_leader());
    assert_eq!(topology.segment_count(), 4);
    let config = topology.config().unwrap();
    assert!(config.contains("[Peer]"), "{config}");
    assert!(!config.contains("PrivateKey"), "{config}");
}

#[test]
fn a_follower_is_no_leader() {
    let mesh = three_clouds();
    assert!(!mesh.solve(Some("aws-eu-2"), &SolveOptions::default()).unwrap().is_leader());
}

#[test]
fn options_reach_the_solver() {
    let mesh = three_clouds();
    let key = Key::generate().unwrap();
    let opts = SolveOptions {
        private_key: Some(key.clone()),
        port: Some(51999),
        persistent_keepalive: Some(25),
        granularity: Some(Granularity::Full),
        ..Default::default()
    };
    let topology = mesh.solve(Some("aws-eu-1"), &opts).unwrap();
    assert_eq!(topology.segment_count(), mesh.node_count());
    let config = topology.config().unwrap();
    assert!(config.contains(&format!("PrivateKey = {}", key.to_base64())), "{config}");
    assert!(config.contains("ListenPort = 51999"), "{config}");
    assert!(config.contains("PersistentKeepalive = 25"), "{config}");
}

#[test]
fn an_unknown_node_is_an_error_naming_it() {
    let mesh = three_clouds();
    let err = mesh.solve(Some("nobody"), &SolveOptions::default()).unwrap_err();
    assert_eq!(err.code(), ENOENT);
    assert!(err.message().contains("\"nobody\""), "{err}");
    let err = mesh.solve(Some("no\0body"), &SolveOptions::default()).unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert!(err.message().starts_with("hostname \"no\\0body\""), "{err}");
}

#[test]
fn the_view_from_outside_renders_the_graph_and_peers() {
    let mesh = three_clouds();
    let topology = mesh.solve(None, &SolveOptions::default()).unwrap();
    assert!(!topology.is_leader());
    let graph = topology.graph().unwrap();
    assert!(graph.starts_with("digraph"), "{graph}");
    assert!(graph.contains("aws-eu-1"), "{graph}");
    let config = topology.peer_config("laptop").unwrap();
    assert!(config.contains("[Peer]"), "{config}");
    let err = topology.peer_config("nobody").unwrap_err();
    assert_eq!(err.code(), ENOENT);
    assert!(err.message().contains("\"nobody\""), "{err}");
}

#[test]
fn granularity_parses_and_prints() {
    assert_eq!("cross".parse::<Granularity>().unwrap(), Granularity::Cross);
    assert_eq!(Granularity::Full.to_string(), "full");
    let err = "everything".parse::<Granularity>().unwrap_err();
    assert_eq!(err.code(), EINVAL);
    assert!(err.message().contains("everything"), "{err}");
}

#[test]
fn threads_share_a_mesh_and_a_topology() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mesh>();
    send_sync::<kilo::Topology<'static>>();
    let mesh = three_clouds();
    let outside = mesh.solve(None, &SolveOptions::default()).unwrap();
    let expected = mesh.solve(Some("gcp-us-1"), &SolveOptions::default()).unwrap().config().unwrap();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..20).all(|_| {
                        let t = mesh.solve(Some("gcp-us-1"), &SolveOptions::default()).unwrap();
                        t.config().unwrap() == expected && outside.graph().is_ok()
                    })
                })
            })
            .collect();
        assert!(workers.into_iter().all(|w| w.join().unwrap()));
    });
}

#[test]
fn errors_are_std_errors() {
    let err: Box<dyn std::error::Error> = Box::new(Mesh::from_json("{").unwrap_err());
    assert!(!err.to_string().is_empty());
    let io: std::io::Error = Mesh::load("/nonexistent").unwrap_err().into();
    assert_eq!(io.kind(), ErrorKind::NotFound);
}

#[test]
fn the_library_has_a_version() {
    assert_eq!(kilo::version().split('.').count(), 3);
}
