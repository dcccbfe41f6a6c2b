//! The function's deployment package as a zip, byte for byte the same for the same files: Lambda
//! answers `CodeSha256` (the SHA-256 of the zip it was given, base64; Lambda API reference,
//! `FunctionConfiguration.CodeSha256`), so `apply` compares it with this zip's to know whether
//! the code changed without uploading it. Hence fixed timestamps, the files in the order given,
//! fixed modes, no extra fields.
//!
//! The format is PKWARE's APPNOTE.TXT (6.3.10): for each file a local header (4.3.7) and its
//! data, then the central directory (4.3.12) and its end record (4.3.16). Entries are deflated
//! (method 8, 4.4.5): a release build of this binary is about 54 MB, over the 50 MB a zip may
//! have when uploaded directly (Lambda quotas, "Deployment package (.zip file archive) size"),
//! and about 19 MB deflated. No ZIP64: a package over 4 GiB is refused (Lambda refuses far
//! smaller ones anyway).
//!
//! Written here rather than with the `zip` crate: about a hundred lines over crates already in
//! the build (flate2, crc32fast, sha2), where the crate would add its own dependency tree and
//! make determinism depend on its choices of extra fields and timestamps.

use std::io::Write;

use sha2::Digest;

/// One file of the zip.
pub struct Entry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    /// Unix permission bits (e.g. `0o755` for `bootstrap`, which Lambda executes).
    pub mode: u32,
}

/// 1980-01-01 00:00:00, the earliest MS-DOS date a zip can hold (APPNOTE 4.4.6): the same
/// timestamp on every entry of every build.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// Version needed to extract: 2.0, deflate (APPNOTE 4.4.3.2).
const VERSION_NEEDED: u16 = 20;
/// Version made by: Unix (3, APPNOTE 4.4.2.2) in the high byte, so the external attributes'
/// high 16 bits are the file's mode (`bootstrap` must be executable).
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const DEFLATE: u16 = 8;
/// `S_IFREG`: a regular file, in the mode's type bits.
const REGULAR_FILE: u32 = 0o100_000;

/// The zip of `entries`, in their order.
pub fn build(entries: &[Entry]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(entry.data)
            .and_then(|_| encoder.try_finish())
            .map_err(|e| format!("cannot compress {}: {e}", entry.name))?;
        let compressed = encoder
            .finish()
            .map_err(|e| format!("cannot compress {}: {e}", entry.name))?;
        let size = |n: usize| {
            u32::try_from(n)
                .map_err(|_| format!("{} is over 4 GiB, too large for a zip", entry.name))
        };
        let (plain, packed, offset) = (
            size(entry.data.len())?,
            size(compressed.len())?,
            size(out.len())?,
        );
        let name_len = u16::try_from(entry.name.len())
            .map_err(|_| format!("the file name {} is too long for a zip", entry.name))?;
        let crc = crc32fast::hash(entry.data);

        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        common(&mut out, crc, packed, plain, name_len);
        out.extend_from_slice(&0u16.to_le_bytes()); // extra field length
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&compressed);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        central.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        common(&mut central, crc, packed, plain, name_len);
        central.extend_from_slice(&0u16.to_le_bytes()); // extra field length
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number start
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&((REGULAR_FILE | (entry.mode & 0o7777)) << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.name.as_bytes());
    }
    let count = u16::try_from(entries.len()).map_err(|_| "too many files for a zip".to_string())?;
    let directory_offset =
        u32::try_from(out.len()).map_err(|_| "the package is over 4 GiB".to_string())?;
    let directory_size =
        u32::try_from(central.len()).map_err(|_| "the package is over 4 GiB".to_string())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // this disk
    out.extend_from_slice(&0u16.to_le_bytes()); // disk of the central directory
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&directory_size.to_le_bytes());
    out.extend_from_slice(&directory_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}

/// The fields a local header and a central directory entry share, from flags to the extra
/// field length exclusive (APPNOTE 4.3.7, 4.3.12).
fn common(out: &mut Vec<u8>, crc: u32, packed: u32, plain: u32, name_len: u16) {
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&DEFLATE.to_le_bytes());
    out.extend_from_slice(&DOS_TIME.to_le_bytes());
    out.extend_from_slice(&DOS_DATE.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&packed.to_le_bytes());
    out.extend_from_slice(&plain.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
}

/// The zip's SHA-256 in base64, as Lambda's `CodeSha256` gives it.
pub fn code_sha256(zip: &[u8]) -> String {
    aws_smithy_types::base64::encode(sha2::Sha256::digest(zip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        build(&[
            Entry {
                name: "bootstrap",
                data: b"\x7fELF pretend executable",
                mode: 0o755,
            },
            Entry {
                name: "bedrock-monitor.toml",
                data: b"[stack]\nname = \"x\"\n",
                mode: 0o644,
            },
        ])
        .unwrap()
    }

    #[test]
    fn the_same_files_make_the_same_bytes() {
        assert_eq!(sample(), sample());
        assert_eq!(code_sha256(&sample()), code_sha256(&sample()));
        assert_eq!(code_sha256(b"").len(), 44);
    }

    #[test]
    fn unzip_reads_back_the_files_and_bootstraps_mode() {
        let dir = std::env::temp_dir().join(format!("bm-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zip = dir.join("p.zip");
        std::fs::write(&zip, sample()).unwrap();
        // Python's zipfile is an independent reader of the format (it checks the CRCs).
        let script = "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                      for i in z.infolist(): print(i.filename, oct(i.external_attr>>16), i.date_time, z.read(i).decode('latin-1'))";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&zip)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            text,
            "bootstrap 0o100755 (1980, 1, 1, 0, 0, 0) \u{7f}ELF pretend executable\n\
             bedrock-monitor.toml 0o100644 (1980, 1, 1, 0, 0, 0) [stack]\nname = \"x\"\n\n"
        );
    }
}
