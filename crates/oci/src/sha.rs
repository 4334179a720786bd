//! SHA-256 as OCI spells it: `sha256:` and 64 lowercase hex digits.

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

/// Lowercase hex of a hash.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>` of some bytes.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// `sha256:<hex>` and the byte count of everything `r` yields.
pub(crate) fn digest_reader(mut r: impl Read) -> io::Result<(String, u64)> {
    let mut w = HashWriter::default();
    let n = io::copy(&mut r, &mut w)?;
    Ok((w.finish(), n))
}

/// A writer that only hashes.
#[derive(Default)]
pub(crate) struct HashWriter(Sha256);

impl HashWriter {
    pub(crate) fn finish(self) -> String {
        format!("sha256:{}", hex(&self.0.finalize()))
    }
}

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
