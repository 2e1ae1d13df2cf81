//! SHA-256, from RustCrypto's `sha2` (with its SHA-NI backend, picked at run time where the
//! CPU has it). The ownership manifest records the hash of every file deploygen wrote (so it
//! removes a file only while its bytes are still the ones it wrote), and the vendored-chart
//! lock the hash of every chart archive. A render hashes each generated file at most once
//! (`disk::with_manifest`; not at all when `disk::memo` knows its bytes); every later use
//! reads the hash back from the manifest it made.

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `data`.
pub fn hex(data: &[u8]) -> String {
    lower_hex(&Sha256::digest(data))
}

/// Lower-case hex of `bytes`, two digits a byte (a table, not a `format!` per byte: the
/// manifest spells out one hash a file on every run).
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// A chart archive's digest as the catalog records it: `sha256:` and the lower-case hex, the
/// form Helm writes in Chart.lock and OCI registries use, so the algorithm is named with it.
pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex(data))
}

/// The 64 lower-case hex digits of a digest written `sha256:<hex>` (the catalog's form) or as
/// bare hex (the vendored-chart lock's); `None` for anything else.
pub fn digest_hex(d: &str) -> Option<&str> {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    let well_formed =
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::{digest, digest_hex, hex};

    #[test]
    fn a_digest_is_sha256_colon_hex_and_its_hex_is_read_back_in_either_form() {
        let h = hex(b"abc");
        assert_eq!(digest(b"abc"), format!("sha256:{h}"));
        assert_eq!(digest_hex(&digest(b"abc")), Some(h.as_str()));
        assert_eq!(digest_hex(&h), Some(h.as_str()));
        // Upper case, a wrong length, another algorithm, a non-hex digit: not a digest.
        for bad in [
            h.to_uppercase(),
            h[1..].to_string(),
            format!("{h}0"),
            format!("sha512:{h}"),
            format!("g{}", &h[1..]),
            format!("/{}", &h[1..]),
            format!(":{}", &h[1..]),
            format!("`{}", &h[1..]),
            String::new(),
        ] {
            assert_eq!(digest_hex(&bad), None, "{bad}");
        }
        for edge in ['0', '9', 'a', 'f'] {
            let d = edge.to_string().repeat(64);
            assert_eq!(digest_hex(&d), Some(d.as_str()));
        }
    }

    #[test]
    fn standard_vectors() {
        assert_eq!(
            hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // 55, 56 and 64 bytes: the padding edges.
        assert_eq!(
            hex(&[b'a'; 64]),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
        assert_eq!(
            hex(&[b'a'; 56]),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"
        );
        // Several blocks.
        assert_eq!(
            hex(&[b'a'; 1000]),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }
}
