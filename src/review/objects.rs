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

/// The two renders side by side.
pub struct Pairs<'a> {
    pub before: Index<'a>,
    pub after: Index<'a>,
}

impl<'a> Pairs<'a> {
    pub fn new(before: &'a [Object], after: &'a [Object]) -> Pairs<'a> {
        Pairs {
            before: index(before),
            after: index(after),
        }
    }

    /// Every identity of either render with its object on each side, in key order.
    pub fn all(&self) -> Vec<(&Key, Option<&'a Object>, Option<&'a Object>)> {
        let mut out: Vec<(&Key, Option<&'a Object>, Option<&'a Object>)> = Vec::new();
        for (k, b) in &self.before {
            out.push((k, Some(*b), self.after.get(k).copied()));
        }
        for (k, a) in &self.after {
            if !self.before.contains_key(k) {
                out.push((k, None, Some(*a)));
            }
        }
        out.sort_by(|x, y| x.0.cmp(y.0));
        out
    }

    /// Identities of the given kinds, with their object on each side.
    pub fn of_kinds(&self, kinds: &[&str]) -> Vec<(&Key, Option<&'a Object>, Option<&'a Object>)> {
        self.all()
            .into_iter()
            .filter(|(k, _, _)| kinds.contains(&k.kind.as_str()))
            .collect()
    }
}

/// How findings name an object seen on either side (the AFTER one when both).
pub fn name_of(before: Option<&Object>, after: Option<&Object>) -> String {
    after.or(before).map(Object::id).unwrap_or_default()
}
