// SPDX-License-Identifier: Apache-2.0
//! The declarations of this crate checked against the installed headers: a C
//! program generated from `STRUCTS` and `FUNCTIONS` includes <kilo/kilo.h>,
//! asserts at compile time that every field and function has the type the
//! Rust declaration implies, takes every function's address (so the linker
//! finds it in libkilo) and prints every struct's size, alignment and field
//! offsets, which must equal Rust's.

use libkilo_sys::abi::{FieldLayout, FunctionSignature, StructLayout};
use libkilo_sys::{FUNCTIONS, STRUCTS};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

fn layout_lines(s: &StructLayout, out: &mut String) {
    writeln!(out, "{} size {} align {}", s.name, s.size, s.align).unwrap();
    for f in s.fields {
        writeln!(out, "{}.{} offset {} size {}", s.name, f.name, f.offset, f.size).unwrap();
    }
}

fn expected_layouts(structs: &[StructLayout]) -> String {
    let mut out = String::new();
    structs.iter().for_each(|s| layout_lines(s, &mut out));
    out
}

/// The C program that checks structs and functions against the headers.
fn c_program(structs: &[StructLayout], functions: &[FunctionSignature]) -> String {
    let mut c = String::from(
        "#include <stdalign.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <kilo/kilo.h>\n\
         #define SAME(a, b) __builtin_types_compatible_p(__typeof__(a), __typeof__(b))\n",
    );
    for f in functions {
        let args: Vec<String> = f.args.iter().map(|a| a()).collect();
        let args = if args.is_empty() { "void".to_string() } else { args.join(", ") };
        let ty = format!("__typeof__({}) (*)({})", (f.ret)(), args);
        writeln!(c, "_Static_assert(SAME(&{0}, {1}), \"{0} is not {1}\");", f.name, ty).unwrap();
    }
    for s in structs {
        let st = (s.c_type)();
        for f in s.fields {
            let ft = (f.c_type)();
            writeln!(c, "_Static_assert(SAME((({st} *)0)->{0}, {ft}), \"{st}.{0} is not {ft}\");", f.name).unwrap();
        }
    }
    c.push_str("static void (*const functions[])(void) = {\n");
    for f in functions {
        writeln!(c, "\t(void (*)(void)){},", f.name).unwrap();
    }
    c.push_str(
        "};\n\nint main(void)\n{\n\tfor (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)\n\
         \t\tif (!functions[i])\n\t\t\treturn 1;\n",
    );
    for s in structs {
        let st = (s.c_type)();
        writeln!(c, "\tprintf(\"{} size %zu align %zu\\n\", sizeof({st}), alignof({st}));", s.name).unwrap();
        for FieldLayout { name, .. } in s.fields {
            writeln!(
                c,
                "\tprintf(\"{0}.{name} offset %zu size %zu\\n\", offsetof({st}, {name}), sizeof((({st} *)0)->{name}));",
                s.name
            )
            .unwrap();
        }
    }
    c.push_str("\treturn 0;\n}\n");
    c
}

/// Compiles and runs the check; Err(compiler messages) if it does not compile.
fn run_check(name: &str, structs: &[StructLayout], functions: &[FunctionSignature]) -> Result<String, String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("abi-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("check.c");
    let program = dir.join("check");
    std::fs::write(&source, c_program(structs, functions)).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Werror"])
        .args(env!("LIBKILO_CFLAGS").split_whitespace())
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .args(env!("LIBKILO_LIBS").split_whitespace())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let run = Command::new(&program).output().unwrap();
    assert!(run.status.success(), "{} failed", program.display());
    Ok(String::from_utf8(run.stdout).unwrap())
}

#[test]
fn declarations_match_the_headers() {
    let printed = run_check("all", STRUCTS, FUNCTIONS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(printed, expected_layouts(STRUCTS));
}

#[test]
fn a_drifted_signature_fails_the_check() {
    // kilo_mesh_from_json as if its length were a uint32_t.
    fn u32_type() -> String {
        "uint32_t".into()
    }
    let real = FUNCTIONS.iter().find(|f| f.name == "kilo_mesh_from_json").unwrap();
    let mut args = real.args.to_vec();
    args[1] = u32_type;
    let args: &'static [fn() -> String] = Box::leak(args.into_boxed_slice());
    let drifted = [FunctionSignature { name: real.name, ret: real.ret, args }];
    let messages = run_check("drifted-function", &[], &drifted).expect_err("a wrong signature compiled");
    assert!(messages.contains("kilo_mesh_from_json is not"), "{messages}");
}

#[test]
fn a_drifted_field_fails_the_check() {
    // struct kilo_error as if code were a uint8_t: the type assertion fails.
    fn u8_type() -> String {
        "uint8_t".into()
    }
    let real = STRUCTS.iter().find(|s| s.name == "kilo_error").unwrap();
    let mut fields: Vec<FieldLayout> = real.fields.iter().map(|f| FieldLayout { c_type: f.c_type, ..*f }).collect();
    fields[0].c_type = u8_type;
    let fields: &'static [FieldLayout] = Box::leak(fields.into_boxed_slice());
    let drifted = [StructLayout { fields, ..*real }];
    let messages = run_check("drifted-field", &drifted, &[]).expect_err("a wrong field type compiled");
    assert!(messages.contains("struct kilo_error.code is not"), "{messages}");
}

#[test]
fn a_drifted_layout_fails_the_check() {
    // struct kilo_solve_opts with private_key one byte further: the offsets differ.
    let real = STRUCTS.iter().find(|s| s.name == "kilo_solve_opts").unwrap();
    let mut moved: Vec<FieldLayout> = real.fields.iter().map(|f| FieldLayout { ..*f }).collect();
    moved[2].offset += 1;
    let fields: &'static [FieldLayout] = Box::leak(moved.into_boxed_slice());
    let drifted = [StructLayout { fields, ..*real }];
    let printed = run_check("drifted-layout", &drifted, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(printed, expected_layouts(&drifted));
}
