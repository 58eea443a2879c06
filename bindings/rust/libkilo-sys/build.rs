// SPDX-License-Identifier: Apache-2.0
//! Finds libkilo through the `pkg-config` program (no crate: nothing is
//! downloaded) and tells cargo how to link it. The compiler flags are passed
//! on to the crate's tests, which compile the headers' layout check.

use std::env;
use std::process::Command;

fn pkg_config(args: &[&str]) -> String {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let output = Command::new(&program)
        .args(args)
        .arg("libkilo")
        .output()
        .unwrap_or_else(|e| panic!("libkilo-sys: cannot run {program}: {e}"));
    if !output.status.success() {
        panic!(
            "libkilo-sys: `{program} {} libkilo` failed (set PKG_CONFIG_PATH to the folder of libkilo.pc): {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).expect("pkg-config printed UTF-8").trim().to_string()
}

fn main() {
    for var in ["PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let libs = pkg_config(&["--libs"]);
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(name) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={name}");
        }
    }
    let cflags = pkg_config(&["--cflags"]);
    for flag in cflags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-I") {
            println!("cargo:include={dir}");
        }
    }
    println!("cargo:rustc-env=LIBKILO_CFLAGS={cflags}");
    println!("cargo:rustc-env=LIBKILO_LIBS={libs}");
}
