// SPDX-License-Identifier: Apache-2.0
//! The Rust side of the four-language comparison (tests/bindings/README.md):
//! what the library computes for a mesh document, printed through this
//! binding's API, byte for byte as tests/bindings/compare.c prints it.

use kilo::{Cidr, Key, Mesh, SolveOptions};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

/// The private key whose public key every binding prints: 32 bytes of 0x01.
const FIXED_PRIVATE_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// A failure as compare.c words it: what failed, then the library's message.
fn failed(what: &str) -> impl FnOnce(kilo::Error) -> String + '_ {
    move |e| format!("{what}: {}", e.message())
}

fn written(e: io::Error) -> String {
    format!("stdout: {e}")
}

fn print(out: &mut impl Write, path: &str) -> Result<(), String> {
    let mesh = Mesh::load(path).map_err(failed("load"))?;
    let opts = SolveOptions::default();
    for name in mesh.node_names() {
        let topology = mesh.solve(Some(name), &opts).map_err(failed(name))?;
        if topology.is_leader() {
            let config = topology.config().map_err(failed(name))?;
            write!(out, "# node {name} (leader)\n{config}").map_err(written)?;
        } else {
            writeln!(out, "# node {name} (not a leader)").map_err(written)?;
        }
    }
    let graph = mesh.solve(None, &opts).and_then(|t| t.graph()).map_err(failed("graph"))?;
    write!(out, "# graph\n{graph}").map_err(written)?;
    let json = mesh.to_json().map_err(failed("mesh"))?;
    writeln!(out, "# mesh\n{json}").map_err(written)?;
    let public = Key::parse(FIXED_PRIVATE_KEY).and_then(|k| k.public()).map_err(failed("key"))?;
    writeln!(out, "# public key\n{public}").map_err(written)?;
    let error = Cidr::parse("10.0.0.0/33").err().ok_or("a bad CIDR was taken")?;
    writeln!(out, "# error\n{}", error.message()).map_err(written)?;
    out.flush().map_err(written)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 {
        eprintln!("usage: compare MESH.json");
        return ExitCode::from(2);
    }
    let mut out = BufWriter::new(io::stdout().lock());
    match print(&mut out, &args[1]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = out.flush();
            eprintln!("compare: {message}");
            ExitCode::FAILURE
        }
    }
}
