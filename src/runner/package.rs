//! Whether a file can be the runner's Lambda package: a Linux ELF executable for x86_64 or
//! arm64 (the two architectures Lambda runs) that runs on Amazon Linux 2023, the OS of the
//! `provided.al2023` runtime. Checked from the file, never assumed: a new dependency or a newer
//! build machine can raise what a binary needs.
//!
//! What "runs on AL2023" means here, and where each rule comes from:
//! - glibc 2.34 is AL2023's C library ("Core toolchain packages glibc, gcc, binutils",
//!   https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html, and "Improved toolchain",
//!   https://docs.aws.amazon.com/linux/al2023/ug/glibc-gcc-and-binutils.html). A dynamic
//!   executable may need symbol versions up to `GLIBC_2.34` and no later, read from its
//!   `SHT_GNU_verneed` entries as the dynamic loader does.
//! - gcc 11 is AL2023's compiler (the two pages say 11.2 and 11.3; the major version, which is
//!   all that matters for `libgcc_s`'s `GCC_<version>` symbol versions, is 11 in both), so
//!   `GCC_x…` needs are met up to `x` = 11.
//! - `GLIBC_ABI_DT_RELR` (relative relocations packed with `-z pack-relative-relocs`) arrived
//!   in glibc 2.36 (glibc 2.36 NEWS), so it fails like `GLIBC_2.36` does; `GLIBC_PRIVATE` ties
//!   a binary to one glibc build and never qualifies.
//! - The loader is glibc's for the architecture (`/lib64/ld-linux-x86-64.so.2`,
//!   `/lib/ld-linux-aarch64.so.1`); another loader (musl's, say) is not on AL2023.
//! - Needed libraries are glibc's own and `libgcc_s.so.1` (gcc's runtime, part of the same
//!   core toolchain). Anything else may be missing from the minimal runtime image, so it is
//!   refused with its name rather than hoped for.
//! - A static executable (no loader, no needed library; static-pie included) needs nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use object::Endianness;
use object::elf;
use object::read::elf::{Dyn, ElfFile64, FileHeader, ProgramHeader};

/// The newest glibc on Amazon Linux 2023 (core-glibc.html).
pub const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The gcc major version on Amazon Linux 2023 (core-glibc.html, glibc-gcc-and-binutils.html).
const AL2023_GCC_MAJOR: u32 = 11;

/// The two architectures a Lambda function can have (`Architectures`: `x86_64`, `arm64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl Architecture {
    /// The name Lambda's `CreateFunction` takes in `Architectures`.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// glibc's dynamic loader on this architecture.
    fn glibc_loader(self) -> &'static str {
        match self {
            Architecture::X86_64 => "/lib64/ld-linux-x86-64.so.2",
            Architecture::Arm64 => "/lib/ld-linux-aarch64.so.1",
        }
    }
}

/// A file that qualifies: what it is built for and what it needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    pub architecture: Architecture,
    /// `None` for a static executable.
    pub glibc: Option<GlibcNeeds>,
}

/// What a dynamic executable needs from the system.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GlibcNeeds {
    /// The newest `GLIBC_2.x` symbol version it needs, e.g. `GLIBC_2.34`.
    pub newest: Option<String>,
    /// Its `DT_NEEDED` libraries, in file order.
    pub libraries: Vec<String>,
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arch = self.architecture.lambda_name();
        match &self.glibc {
            None => write!(f, "a static Linux executable for {arch}"),
            Some(needs) => write!(
                f,
                "a Linux executable for {arch} needing glibc {} (Amazon Linux 2023 has {}.{})",
                needs
                    .newest
                    .as_deref()
                    .and_then(|v| v.strip_prefix("GLIBC_"))
                    .unwrap_or("of any version"),
                AL2023_GLIBC.0,
                AL2023_GLIBC.1
            ),
        }
    }
}

/// Why a file cannot be the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unreadable(String),
    NotElf,
    Script,
    NotSixtyFourBit,
    BigEndian,
    Malformed(String),
    WrongArchitecture(String),
    NotLinux(u8),
    NotExecutable(&'static str),
    ForeignLoader {
        loader: String,
        expected: &'static str,
    },
    Libraries(Vec<String>),
    Versions(Vec<String>),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unreadable(e) => write!(f, "cannot be read ({e})"),
            Refusal::NotElf => f.write_str("is not an ELF executable (no ELF header)"),
            Refusal::Script => {
                f.write_str("is a script, not an ELF executable (Lambda runs the binary itself)")
            }
            Refusal::NotSixtyFourBit => {
                f.write_str("is a 32-bit ELF; Lambda runs 64-bit x86_64 or arm64 only")
            }
            Refusal::BigEndian => {
                f.write_str("is a big-endian ELF; Lambda's x86_64 and arm64 are little-endian")
            }
            Refusal::Malformed(e) => write!(f, "is not a well-formed ELF file ({e})"),
            Refusal::WrongArchitecture(name) => write!(
                f,
                "is built for {name}; Lambda runs x86_64 or arm64 (aarch64) only"
            ),
            Refusal::NotLinux(abi) => write!(
                f,
                "is built for another operating system (ELF OS/ABI {abi}), not Linux"
            ),
            Refusal::NotExecutable(kind) => write!(f, "is {kind}, not an executable"),
            Refusal::ForeignLoader { loader, expected } => write!(
                f,
                "needs the dynamic loader {loader}, which Amazon Linux 2023 does not have \
                 (glibc's is {expected})"
            ),
            Refusal::Libraries(libraries) => write!(
                f,
                "needs {}, which {} not part of glibc or gcc's runtime and may be missing \
                 from Lambda's provided.al2023 image",
                libraries.join(", "),
                if libraries.len() == 1 { "is" } else { "are" }
            ),
            Refusal::Versions(versions) => write!(
                f,
                "needs {}; Amazon Linux 2023 has glibc {}.{} and gcc {AL2023_GCC_MAJOR}",
                versions.join(", "),
                AL2023_GLIBC.0,
                AL2023_GLIBC.1
            ),
        }
    }
}

/// A file that is not a package: which file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}; build a package with scripts/build-runner and name it in [limits_runner] package", path.display())]
pub struct NotAPackage {
    pub path: PathBuf,
    pub reason: Refusal,
}

/// Checks the file at `path`.
pub fn check(path: &Path) -> Result<Package, NotAPackage> {
    let refuse = |reason| NotAPackage {
        path: path.to_path_buf(),
        reason,
    };
    let data = std::fs::read(path).map_err(|e| refuse(Refusal::Unreadable(e.to_string())))?;
    check_bytes(&data).map_err(refuse)
}

/// Checks the binary that is running (what `apply` uploads when no package is named).
pub fn check_running_binary() -> Result<(PathBuf, Package), NotAPackage> {
    let path = std::env::current_exe().map_err(|e| NotAPackage {
        path: PathBuf::from("the running binary"),
        reason: Refusal::Unreadable(e.to_string()),
    })?;
    let package = check(&path)?;
    Ok((path, package))
}

/// Checks an executable's bytes.
pub fn check_bytes(data: &[u8]) -> Result<Package, Refusal> {
    if !data.starts_with(&elf::ELFMAG) {
        return Err(if data.starts_with(b"#!") {
            Refusal::Script
        } else {
            Refusal::NotElf
        });
    }
    // e_ident: magic (4 bytes), then class, then data encoding (the ELF specification).
    match data.get(4) {
        Some(&elf::ELFCLASS64) => {}
        Some(&elf::ELFCLASS32) => return Err(Refusal::NotSixtyFourBit),
        _ => return Err(Refusal::Malformed("unknown ELF class".into())),
    }
    if data.get(5) == Some(&elf::ELFDATA2MSB) {
        return Err(Refusal::BigEndian);
    }
    let file =
        ElfFile64::<Endianness>::parse(data).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let endian = file.endian();
    let header = file.elf_header();
    let architecture = match header.e_machine(endian) {
        elf::EM_X86_64 => Architecture::X86_64,
        elf::EM_AARCH64 => Architecture::Arm64,
        other => return Err(Refusal::WrongArchitecture(machine_name(other))),
    };
    let os_abi = header.e_ident().os_abi;
    if os_abi != elf::ELFOSABI_NONE && os_abi != elf::ELFOSABI_GNU {
        return Err(Refusal::NotLinux(os_abi));
    }

    let loader = interpreter(&file)?;
    let libraries = needed_libraries(&file)?;
    let entry = header.e_entry(endian);
    match header.e_type(endian) {
        elf::ET_EXEC => {}
        // A position-independent executable is ET_DYN too. Without a loader, a static-pie
        // has an entry point and needs no library; a shared library lacks one or the other.
        elf::ET_DYN if loader.is_some() || (libraries.is_empty() && entry != 0) => {}
        elf::ET_DYN => return Err(Refusal::NotExecutable("a shared library")),
        elf::ET_REL => return Err(Refusal::NotExecutable("an object file")),
        elf::ET_CORE => return Err(Refusal::NotExecutable("a core dump")),
        _ => return Err(Refusal::NotExecutable("an ELF file of unknown type")),
    }
    if entry == 0 {
        return Err(Refusal::NotExecutable("an ELF file without an entry point"));
    }

    let Some(loader) = loader else {
        if libraries.is_empty() {
            return Ok(Package {
                architecture,
                glibc: None,
            });
        }
        return Err(Refusal::Malformed(
            "it needs shared libraries but names no dynamic loader".into(),
        ));
    };
    let expected = architecture.glibc_loader();
    if loader != expected {
        return Err(Refusal::ForeignLoader { loader, expected });
    }
    let foreign: Vec<String> = libraries
        .iter()
        .filter(|l| !is_system_library(l))
        .cloned()
        .collect();
    if !foreign.is_empty() {
        return Err(Refusal::Libraries(foreign));
    }
    let versions = needed_versions(&file)?;
    let too_new: Vec<String> = versions
        .iter()
        .filter(|v| !version_available(v))
        .cloned()
        .collect();
    if !too_new.is_empty() {
        return Err(Refusal::Versions(too_new));
    }
    let newest = versions
        .iter()
        .filter_map(|v| glibc_version(v).map(|n| (n, v)))
        .max()
        .map(|(_, v)| v.clone());
    Ok(Package {
        architecture,
        glibc: Some(GlibcNeeds { newest, libraries }),
    })
}

fn malformed(e: object::read::Error) -> Refusal {
    Refusal::Malformed(e.to_string())
}

/// `PT_INTERP`: the dynamic loader the kernel starts, if any.
fn interpreter(file: &ElfFile64<'_, Endianness>) -> Result<Option<String>, Refusal> {
    let endian = file.endian();
    for segment in file.elf_program_headers() {
        if let Some(path) = segment
            .interpreter(endian, file.data())
            .map_err(malformed)?
        {
            return Ok(Some(String::from_utf8_lossy(path).into_owned()));
        }
    }
    Ok(None)
}

/// `DT_NEEDED`: the shared libraries the executable names.
fn needed_libraries(file: &ElfFile64<'_, Endianness>) -> Result<Vec<String>, Refusal> {
    let endian = file.endian();
    let sections = file.elf_section_table();
    let Some((entries, link)) = sections.dynamic(endian, file.data()).map_err(malformed)? else {
        return Ok(Vec::new());
    };
    let strings = sections
        .strings(endian, file.data(), link)
        .map_err(malformed)?;
    let mut libraries = Vec::new();
    for entry in entries {
        if entry.tag32(endian) == Some(elf::DT_NEEDED as i32) {
            let name = entry.string(endian, strings).map_err(malformed)?;
            libraries.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(libraries)
}

/// `SHT_GNU_verneed`: every symbol version needed, once each, in file order.
fn needed_versions(file: &ElfFile64<'_, Endianness>) -> Result<Vec<String>, Refusal> {
    let endian = file.endian();
    let sections = file.elf_section_table();
    let Some((mut needs, link)) = sections
        .gnu_verneed(endian, file.data())
        .map_err(malformed)?
    else {
        return Ok(Vec::new());
    };
    let strings = sections
        .strings(endian, file.data(), link)
        .map_err(malformed)?;
    let mut versions: Vec<String> = Vec::new();
    while let Some((_, mut aux)) = needs.next().map_err(malformed)? {
        while let Some(entry) = aux.next().map_err(malformed)? {
            let name = entry.name(endian, strings).map_err(malformed)?;
            let name = String::from_utf8_lossy(name).into_owned();
            if !versions.contains(&name) {
                versions.push(name);
            }
        }
    }
    Ok(versions)
}

/// glibc's libraries (the loader among them) and gcc's runtime.
fn is_system_library(name: &str) -> bool {
    const GLIBC: &[&str] = &[
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    ];
    GLIBC.contains(&name) || name == "libgcc_s.so.1"
}

/// `GLIBC_2.34` → (2, 34); `GLIBC_2.2.5` → (2, 2). Other names → `None`.
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    if parts.any(|p| p.parse::<u32>().is_err()) {
        return None;
    }
    Some((major, minor))
}

/// Whether AL2023 provides a symbol version (the rules at the top of this file).
fn version_available(name: &str) -> bool {
    if let Some(version) = glibc_version(name) {
        return version <= AL2023_GLIBC;
    }
    if let Some(rest) = name.strip_prefix("GCC_") {
        return rest
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|major| major <= AL2023_GCC_MAJOR);
    }
    // GLIBC_PRIVATE, GLIBC_ABI_DT_RELR (glibc 2.36) and names of no library AL2023 is known
    // to provide.
    false
}

/// A readable name for an ELF machine that is not one Lambda runs.
fn machine_name(machine: u16) -> String {
    match machine {
        elf::EM_386 => "i386 (32-bit x86)".into(),
        elf::EM_ARM => "32-bit ARM".into(),
        elf::EM_RISCV => "RISC-V".into(),
        elf::EM_PPC64 => "PowerPC 64".into(),
        elf::EM_S390 => "s390x".into(),
        elf::EM_LOONGARCH => "LoongArch".into(),
        other => format!("ELF machine {other}"),
    }
}

#[cfg(test)]
mod tests;
