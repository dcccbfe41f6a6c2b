//! Fixtures are built here by the machine's gcc (Debian's, glibc 2.36): small enough to build
//! in a second each, and real ELF files rather than hand-made headers. Headers for other
//! machines and classes are a real executable with one field changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// Compiles `source` (C) in `dir` with `args`; the output is `dir/name`.
fn gcc(dir: &Path, name: &str, source: &str, args: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, source).expect("write the C source");
    let out = dir.join(name);
    let status = Command::new("gcc")
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .arg(format!("-L{}", dir.display()))
        .status()
        .expect("run gcc (the machine's C compiler builds these fixtures)");
    assert!(status.success(), "gcc {args:?} {name}.c failed");
    out
}

const MAIN: &str = "int main(void) { return 0; }\n";

fn refusal(path: &Path) -> Refusal {
    check(path).expect_err("should not qualify").reason
}

/// The bytes of `path` with `patch` applied, written beside it as `name`.
fn patched(path: &Path, name: &str, patch: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(path).expect("read fixture");
    patch(&mut bytes);
    let out = path.with_file_name(name);
    std::fs::write(&out, bytes).expect("write patched fixture");
    out
}

#[test]
fn a_static_executable_qualifies_and_needs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = gcc(dir.path(), "static", MAIN, &["-static", "-O"]);
    let package = check(&exe).expect("a static executable qualifies");
    assert_eq!(package.architecture, Architecture::X86_64);
    assert_eq!(package.glibc, None);
    assert_eq!(package.to_string(), "a static Linux executable for x86_64");

    let pie = gcc(dir.path(), "static-pie", MAIN, &["-static-pie", "-O"]);
    assert_eq!(check(&pie).expect("static-pie qualifies").glibc, None);
}

#[test]
fn a_dynamic_executable_needing_glibc_2_34_qualifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Since glibc 2.34 every program's start code needs __libc_start_main@GLIBC_2.34.
    let exe = gcc(dir.path(), "dynamic", MAIN, &["-O"]);
    let package = check(&exe).expect("qualifies");
    let needs = package.glibc.clone().expect("dynamic");
    assert_eq!(needs.newest.as_deref(), Some("GLIBC_2.34"));
    assert_eq!(needs.libraries, ["libc.so.6"]);
    assert_eq!(
        package.to_string(),
        "a Linux executable for x86_64 needing glibc 2.34 (Amazon Linux 2023 has 2.34)"
    );
}

#[test]
fn a_symbol_from_glibc_2_36_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    // arc4random arrived in glibc 2.36.
    let source = "#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n";
    let exe = gcc(dir.path(), "newer", source, &["-O"]);
    let error = check(&exe).expect_err("needs glibc 2.36");
    assert_eq!(error.reason, Refusal::Versions(vec!["GLIBC_2.36".into()]));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: needs GLIBC_2.36; Amazon Linux 2023 has glibc 2.34 and gcc 11; build a package \
             with scripts/build-runner and name it in [limits_runner] package",
            exe.display()
        )
    );
}

#[test]
fn packed_relative_relocations_need_glibc_2_36() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = "static int x; int *p = &x;\nint main(void) { return *p; }\n";
    let exe = gcc(
        dir.path(),
        "relr",
        source,
        &["-O", "-pie", "-fPIE", "-Wl,-z,pack-relative-relocs"],
    );
    assert_eq!(
        refusal(&exe),
        Refusal::Versions(vec!["GLIBC_ABI_DT_RELR".into()])
    );
}

#[test]
fn another_loader_or_a_library_outside_glibc_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let musl = gcc(
        dir.path(),
        "musl-loader",
        MAIN,
        &["-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1"],
    );
    assert_eq!(
        refusal(&musl),
        Refusal::ForeignLoader {
            loader: "/lib/ld-musl-x86_64.so.1".into(),
            expected: "/lib64/ld-linux-x86-64.so.2",
        }
    );

    gcc(
        dir.path(),
        "libextra.so",
        "int extra(void) { return 1; }\n",
        &["-shared", "-fPIC"],
    );
    let uses = gcc(
        dir.path(),
        "uses-extra",
        "int extra(void);\nint main(void) { return extra(); }\n",
        &["-Wl,--no-as-needed", "-lextra"],
    );
    assert_eq!(
        refusal(&uses),
        Refusal::Libraries(vec!["libextra.so".into()])
    );
    assert!(
        refusal(&uses)
            .to_string()
            .contains("libextra.so, which is not part of glibc"),
        "{}",
        refusal(&uses)
    );
}

#[test]
fn what_is_not_an_executable_says_what_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let library = gcc(
        dir.path(),
        "libshared.so",
        "int f(void) { return 1; }\n",
        &["-shared", "-fPIC"],
    );
    assert_eq!(
        refusal(&library),
        Refusal::NotExecutable("a shared library")
    );
    let object = gcc(dir.path(), "object.o", MAIN, &["-c"]);
    assert_eq!(refusal(&object), Refusal::NotExecutable("an object file"));

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "bedrock-monitor\n").expect("write");
    assert_eq!(refusal(&text), Refusal::NotElf);
    let script = dir.path().join("bootstrap");
    std::fs::write(&script, "#!/bin/sh\nexec ./bedrock-monitor\n").expect("write");
    assert_eq!(refusal(&script), Refusal::Script);
    let missing = dir.path().join("missing");
    assert!(matches!(refusal(&missing), Refusal::Unreadable(_)));
    assert!(matches!(
        check_bytes(&elf::ELFMAG),
        Err(Refusal::Malformed(_))
    ));
}

#[test]
fn a_header_for_another_machine_class_or_byte_order_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = gcc(dir.path(), "static", MAIN, &["-static", "-O"]);
    // e_machine is the little-endian u16 at offset 18 of an ELF64 header.
    let machine = |m: u16| move |b: &mut Vec<u8>| b[18..20].copy_from_slice(&m.to_le_bytes());

    let riscv = patched(&exe, "riscv", machine(elf::EM_RISCV));
    assert_eq!(refusal(&riscv), Refusal::WrongArchitecture("RISC-V".into()));
    assert_eq!(
        check(&riscv).expect_err("riscv").to_string(),
        format!(
            "{}: is built for RISC-V; Lambda runs x86_64 or arm64 (aarch64) only; build a \
             package with scripts/build-runner and name it in [limits_runner] package",
            riscv.display()
        )
    );
    let arm64 = patched(&exe, "arm64", machine(elf::EM_AARCH64));
    assert_eq!(
        check(&arm64)
            .expect("an arm64 header is Lambda's")
            .architecture,
        Architecture::Arm64
    );
    let i386 = patched(&exe, "i386", |b| b[4] = elf::ELFCLASS32);
    assert_eq!(refusal(&i386), Refusal::NotSixtyFourBit);
    let big = patched(&exe, "big", |b| b[5] = elf::ELFDATA2MSB);
    assert_eq!(refusal(&big), Refusal::BigEndian);
    let freebsd = patched(&exe, "freebsd", |b| b[7] = elf::ELFOSABI_FREEBSD);
    assert_eq!(refusal(&freebsd), Refusal::NotLinux(elf::ELFOSABI_FREEBSD));
}

#[test]
fn symbol_versions_against_al2023() {
    for ok in [
        "GLIBC_2.2.5",
        "GLIBC_2.17",
        "GLIBC_2.34",
        "GCC_3.0",
        "GCC_4.2.0",
        "GCC_7.0.0",
    ] {
        assert!(version_available(ok), "{ok}");
    }
    for no in [
        "GLIBC_2.35",
        "GLIBC_2.39",
        "GLIBC_3.0",
        "GLIBC_PRIVATE",
        "GLIBC_ABI_DT_RELR",
        "GCC_12.0.0",
        "OPENSSL_3.0.0",
    ] {
        assert!(!version_available(no), "{no}");
    }
    assert_eq!(glibc_version("GLIBC_2.2.5"), Some((2, 2)));
    assert_eq!(glibc_version("GLIBC_2.x"), None);
}

/// The test binary itself, read by this check and by binutils' objdump: the same newest
/// GLIBC version, and a verdict that follows from it.
#[test]
fn the_running_binary_is_checked_like_any_file() {
    let exe = std::env::current_exe().expect("current_exe");
    let output = Command::new("objdump")
        .arg("-p")
        .arg(&exe)
        .output()
        .expect("run objdump (binutils)");
    assert!(output.status.success(), "objdump -p failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let newest_by_objdump = text
        .split_whitespace()
        .filter_map(|word| glibc_version(word).map(|v| (v, word.to_string())))
        .max()
        .map(|(_, word)| word);

    match check_running_binary() {
        Ok((path, package)) => {
            assert_eq!(path, exe);
            let host = match std::env::consts::ARCH {
                "aarch64" => Architecture::Arm64,
                _ => Architecture::X86_64,
            };
            assert_eq!(package.architecture, host);
            assert_eq!(
                package.glibc.and_then(|needs| needs.newest),
                newest_by_objdump
            );
        }
        Err(NotAPackage {
            reason: Refusal::Versions(too_new),
            ..
        }) => {
            let newest = newest_by_objdump.expect("objdump saw a GLIBC version");
            assert!(too_new.contains(&newest), "{too_new:?} vs {newest}");
        }
        Err(other) => panic!("the test binary: {other}"),
    }
}
