// SPDX-License-Identifier: Apache-2.0
//! kgctl-like commands over a mesh document, written with the binding:
//!
//!     kgctl graph MESH.json             the mesh as GraphViz DOT
//!     kgctl showconf MESH.json NODE     the node's WireGuard configuration
//!     kgctl peerconf MESH.json PEER     a peer's WireGuard configuration
//!     kgctl genkey                      a new private key, like `wg genkey`
//!     kgctl pubkey < KEY                its public key, like `wg pubkey`

use kilo::{Key, Mesh, SolveOptions};
use std::io::Read;
use std::process::ExitCode;

fn public_key_of_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| format!("stdin: {e}"))?;
    let key = Key::parse(text.trim_end());
    // The text is a private key: gone before the string's memory is reused.
    text.clear();
    text.extend(std::iter::repeat('\0').take(text.capacity()));
    Ok(key.and_then(|k| k.public()).map_err(|e| e.to_string())?.to_string() + "\n")
}

fn run(args: &[&str]) -> Result<String, String> {
    let opts = SolveOptions::default();
    let out = match *args {
        ["graph", mesh] => Mesh::load(mesh).and_then(|m| m.solve(None, &opts)?.graph()),
        ["showconf", mesh, node] => Mesh::load(mesh).and_then(|m| m.solve(Some(node), &opts)?.config()),
        ["peerconf", mesh, peer] => Mesh::load(mesh).and_then(|m| m.solve(None, &opts)?.peer_config(peer)),
        ["genkey"] => Key::generate().map(|k| k.to_base64() + "\n"),
        ["pubkey"] => return public_key_of_stdin(),
        _ => return Err("usage: kgctl graph|showconf|peerconf MESH.json [NAME], kgctl genkey, kgctl pubkey".into()),
    };
    out.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("kgctl: {message}");
            ExitCode::FAILURE
        }
    }
}
