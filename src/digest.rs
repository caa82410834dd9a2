//! SHA-256 in lower-case hex: model files, record keys and content hashes.

use sha2::{Digest as _, Sha256};

/// Lower-case hex of a digest (or any bytes).
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
