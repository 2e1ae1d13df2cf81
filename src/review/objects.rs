//! Objects by identity: (group, kind, namespace, name). Two renders are compared object by
//! object on this key, so the order of documents never matters.

use std::collections::BTreeMap;

use crate::audit::manifest::Object;

/// An object's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn of(o: &Object) -> Key {
        Key {
            group: o.group().to_string(),
            kind: o.kind.clone(),
            namespace: o.namespace.clone().unwrap_or_default(),
            name: o.name.clone(),
        }
    }
}

/// The objects of one render by identity (a second object of one identity replaces the
/// first, as the API server would).
pub type Index<'a> = BTreeMap<Key, &'a Object>;

pub fn index(objects: &[Object]) -> Index<'_> {
    objects.iter().map(|o| (Key::of(o), o)).collect()
}

/// One identity with its object on each side.
pub type Entry<'a> = (Key, Option<&'a Object>, Option<&'a Object>);

/// The two renders side by side.
pub struct Pairs<'a> {
    pub before: Index<'a>,
    pub after: Index<'a>,
    /// Every identity of either render, in key order (the two indexes merged once).
    entries: Vec<Entry<'a>>,
}

impl<'a> Pairs<'a> {
    pub fn new(before: &'a [Object], after: &'a [Object]) -> Pairs<'a> {
        let before = index(before);
        let after = index(after);
        let mut entries: Vec<Entry<'a>> = Vec::with_capacity(before.len().max(after.len()));
        let (mut b, mut a) = (before.iter(), after.iter());
        let (mut nb, mut na) = (b.next(), a.next());
        loop {
            match (nb, na) {
                (Some((kb, ob)), Some((ka, oa))) => match kb.cmp(ka) {
                    std::cmp::Ordering::Equal => {
                        entries.push((kb.clone(), Some(*ob), Some(*oa)));
                        (nb, na) = (b.next(), a.next());
                    }
                    std::cmp::Ordering::Less => {
                        entries.push((kb.clone(), Some(*ob), None));
                        nb = b.next();
                    }
                    std::cmp::Ordering::Greater => {
                        entries.push((ka.clone(), None, Some(*oa)));
                        na = a.next();
                    }
                },
                (Some((kb, ob)), None) => {
                    entries.push((kb.clone(), Some(*ob), None));
                    nb = b.next();
                }
                (None, Some((ka, oa))) => {
                    entries.push((ka.clone(), None, Some(*oa)));
                    na = a.next();
                }
                (None, None) => break,
            }
        }
        Pairs {
            before,
            after,
            entries,
        }
    }

    /// Every identity of either render with its object on each side, in key order.
    pub fn all(&self) -> impl Iterator<Item = (&Key, Option<&'a Object>, Option<&'a Object>)> + '_ {
        self.entries.iter().map(|(k, b, a)| (k, *b, *a))
    }

    /// Identities of the given kinds, with their object on each side.
    pub fn of_kinds<'s>(
        &'s self,
        kinds: &'s [&str],
    ) -> impl Iterator<Item = (&'s Key, Option<&'a Object>, Option<&'a Object>)> + 's {
        self.all()
            .filter(move |(k, _, _)| kinds.contains(&k.kind.as_str()))
    }
}

/// How findings name an object seen on either side (the AFTER one when both).
pub fn name_of(before: Option<&Object>, after: Option<&Object>) -> String {
    after.or(before).map(Object::id).unwrap_or_default()
}
