//! Which YAML tags an input may carry. The matrix and catalog files are plain data: no tag at
//! all. A manifest stream is Kubernetes' YAML, which Go's YAML reader takes with the YAML 1.1
//! core tags, so those pass there (`!!str 1` is the string "1" to both readers); every other
//! tag is refused, because a tag deploygen's reader and the cluster's reader resolve differently
//! would let the audit prove something other than what the cluster applies:
//!
//! - custom tags (`!Ref`, `!vault x`) are no Kubernetes YAML at all;
//! - `!!python/...`, `!!omap`, `!!pairs`, `!!set`, `!!merge` and other `!!` tags outside the
//!   core list are read differently (or not at all) by the two libraries;
//! - a `%TAG` directive can rebind `!!` itself.
//!
//! `!!binary` passes, read as its base64 text (Go decodes it): an image hidden that way is
//! then not on the mirror, so the audit fails it rather than missing it.

/// The YAML 1.1 core tags a manifest may carry (as `!!name` or `!<tag:yaml.org,2002:name>`).
pub const CORE: [&str; 9] = [
    "str",
    "int",
    "float",
    "bool",
    "null",
    "binary",
    "timestamp",
    "map",
    "seq",
];

/// What tags an input may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tags {
    /// None: plain data.
    Refused,
    /// Only the core tags (`CORE`), and no `%TAG` directive.
    Core,
}

/// Whether `tag` (as written, from its `!`) is one of the core tags.
pub fn is_core(tag: &str) -> bool {
    let name = tag
        .strip_prefix("!!")
        .or_else(|| {
            tag.strip_prefix("!<tag:yaml.org,2002:")
                .and_then(|t| t.strip_suffix('>'))
        })
        .unwrap_or("");
    CORE.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_core_tags_are_core() {
        for ok in [
            "!!str",
            "!!int",
            "!!binary",
            "!!seq",
            "!<tag:yaml.org,2002:str>",
        ] {
            assert!(is_core(ok), "{ok}");
        }
        for bad in [
            "!Ref",
            "!str",
            "!!python/name:os.system",
            "!!set",
            "!!merge",
            "!!strx",
            "!<tag:yaml.org,2002:str",
            "!<tag:example.com,2002:str>",
            "!",
            "!!",
        ] {
            assert!(!is_core(bad), "{bad}");
        }
    }
}
