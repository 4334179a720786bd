//! Capability sets decoded by name.
//!
//! Root's power is split into ~40 capabilities; a process carries five sets of them (permitted,
//! effective, inheritable, bounding, ambient), shown in /proc/PID/status as hex masks such as
//! `CapEff: 000001ffffffffff`. Bit N is capability N (`CAP_CHOWN` is 0). `capsh --decode` turns a
//! mask into names; so does this.

use caps::Capability;

/// The names (`cap_chown`, lower case as `capsh` and `getcap` print them) of the bits set in `mask`.
pub fn decode(mask: u64) -> Vec<String> {
    let mut known: Vec<Capability> = caps::all().into_iter().collect();
    known.sort_by_key(|c| c.index());
    (0..64u8)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| {
            known
                .iter()
                .find(|c| c.index() == bit)
                .map(|c| c.to_string().to_lowercase())
                .unwrap_or_else(|| format!("cap_{bit}"))
        })
        .collect()
}

/// The bit of a capability given by name (`cap_net_raw` or `CAP_NET_RAW`).
pub fn bit_of(name: &str) -> Option<u8> {
    let upper = name.to_uppercase();
    caps::all()
        .into_iter()
        .find(|c| c.to_string() == upper)
        .map(|c| c.index())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_capsh() {
        // capsh --decode=0x3000 prints cap_net_bind_service? no: 0x3000 is bits 12 and 13.
        assert_eq!(decode(0x3000), ["cap_net_admin", "cap_net_raw"]);
        assert_eq!(decode(1), ["cap_chown"]);
        assert_eq!(bit_of("CAP_NET_RAW"), Some(13));
        assert!(decode(0).is_empty());
    }
}
