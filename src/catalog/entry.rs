//! One entry of the loaded catalog: a compiled-in component version stays `static` data until
//! a run first reads it (a render reads the four or five versions its matrix pins, not the
//! thirty-odd the catalog holds), or an entry a catalog directory gave.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use super::statics::{self, Own as _};
use super::types::ComponentVersion;

/// Reads as the `ComponentVersion` it holds (`Deref`); a compiled-in one is made owned on
/// first read, once.
#[derive(Clone)]
pub struct Entry(Source);

#[derive(Clone)]
enum Source {
    Compiled(
        &'static statics::ComponentVersion,
        OnceLock<ComponentVersion>,
    ),
    Owned(ComponentVersion),
}

impl Entry {
    /// A compiled-in entry, owned only when first read.
    pub(crate) fn compiled(entry: &'static statics::ComponentVersion) -> Entry {
        Entry(Source::Compiled(entry, OnceLock::new()))
    }
}

impl From<ComponentVersion> for Entry {
    fn from(entry: ComponentVersion) -> Entry {
        Entry(Source::Owned(entry))
    }
}

impl Deref for Entry {
    type Target = ComponentVersion;
    fn deref(&self) -> &ComponentVersion {
        match &self.0 {
            Source::Compiled(data, owned) => owned.get_or_init(|| data.own()),
            Source::Owned(entry) => entry,
        }
    }
}

impl DerefMut for Entry {
    fn deref_mut(&mut self) -> &mut ComponentVersion {
        if let Source::Compiled(data, owned) = &mut self.0 {
            let entry = owned.take().unwrap_or_else(|| data.own());
            self.0 = Source::Owned(entry);
        }
        match &mut self.0 {
            Source::Owned(entry) => entry,
            Source::Compiled(..) => unreachable!("a compiled-in entry is made owned just above"),
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first() -> &'static statics::ComponentVersion {
        super::super::loaded::compiled_entries()[0].1
    }

    #[test]
    fn a_compiled_entry_reads_as_its_owned_form_and_stays_put_once_changed() {
        let mut entry = Entry::compiled(first());
        let owned = first().own();
        assert_eq!(*entry, owned);
        assert_eq!(entry, Entry::from(owned.clone()));
        entry.label = "changed".into();
        assert_eq!(entry.label, "changed");
        assert_ne!(entry, Entry::from(owned));
        // Changed before it was ever read.
        let mut fresh = Entry::compiled(first());
        fresh.version = "v9.9.9".into();
        assert_eq!(fresh.version, "v9.9.9");
        assert_eq!(fresh.component, first().component);
    }
}
