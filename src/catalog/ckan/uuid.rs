//! Stable UUIDs for CKAN ids: RFC 9562 UUIDv8, name-based with SHA-256 (the construction
//! of RFC 9562 Appendix B.2), so that the same dataset keeps the same `id` across builds,
//! servers and public URLs.
//!
//! Why hand-made: the `uuid` crate is only a transitive dependency (not usable without
//! changing Cargo.toml, which is fixed), and its v5 uses SHA-1. The construction is five
//! lines: SHA-256 of the namespace UUID's 16 bytes followed by the name, first 16 bytes
//! kept, version nibble set to 8 and variant bits to `10`.
//!
//! Pitfall: a receiving CKAN harvester (ckanext-harvest's CKAN harvester) reuses the
//! remote `id` as its own, so ids must be unique across every portal it harvests, not
//! just here. The names hashed therefore start with the publisher's IPA code
//! (`c_b648:scuole-statali`), never with the dataset id alone.

use sha2::{Digest, Sha256};

/// RFC 9562's `NameSpace_URL` (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`), the namespace of
/// every Portale CKAN id.
pub const NAMESPACE_URL: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// The UUIDv8 of `name` in `namespace`, as lowercase `8-4-4-4-12` hex.
pub fn name_based(namespace: &[u8; 16], name: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(namespace);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The CKAN id for `name` (see the module docs for what the names are).
pub fn ckan_id(name: &str) -> String {
    name_based(&NAMESPACE_URL, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9562 Appendix B.2, "Example of a UUIDv8 Value (Name-Based)": SHA-256 of the DNS
    /// namespace and "www.example.com".
    #[test]
    fn rfc_9562_name_based_example() {
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            name_based(&dns, "www.example.com"),
            "5c146b14-3c52-8afd-938a-375d0df1fbf6"
        );
    }
}
