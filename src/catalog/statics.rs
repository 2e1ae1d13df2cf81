//! The compiled-in catalog as `static` data: build.rs parses `catalog/*.yaml` with the owned
//! types (`types.rs`) and writes each file out as a `static` of the mirror types below
//! (`&'static str` for `String`, `&'static [T]` for `Vec<T>`, `Map` for `BTreeMap`), so the
//! binary carries the catalog as read-only data, not as code that builds it (a function
//! building the whole catalog took rustc gigabytes to optimise). `Own::own` turns an entry
//! into the owned types the rest of deploygen reads, when a run first asks for it.
//!
//! Every mirror struct is declared with the fields of its owned type (`mirror!` builds the
//! owned value with a struct literal naming every field, so a field added to an owned type and
//! not here fails the build).

use std::collections::BTreeMap;

use super::types as owned;
pub use super::types::{DefectFix, Feature, PullSecretForm, RuleKind};
use crate::model::matrix::DeploymentMode;

/// A static value that can be turned into its owned counterpart.
pub trait Own {
    type Owned;
    fn own(&self) -> Self::Owned;
}

impl Own for &'static str {
    type Owned = String;
    fn own(&self) -> String {
        (*self).to_string()
    }
}

impl<T: Own> Own for &'static [T] {
    type Owned = Vec<T::Owned>;
    fn own(&self) -> Vec<T::Owned> {
        self.iter().map(Own::own).collect()
    }
}

impl<T: Own> Own for Option<T> {
    type Owned = Option<T::Owned>;
    fn own(&self) -> Option<T::Owned> {
        self.as_ref().map(Own::own)
    }
}

/// A `BTreeMap<String, V>` as its (key, value) pairs, in key order.
#[derive(Debug)]
pub struct Map<V: 'static>(pub &'static [(&'static str, V)]);

impl<V: Own> Own for Map<V> {
    type Owned = BTreeMap<String, V::Owned>;
    fn own(&self) -> BTreeMap<String, V::Owned> {
        self.0.iter().map(|(k, v)| (k.own(), v.own())).collect()
    }
}

impl Own for semver::Version {
    type Owned = semver::Version;
    fn own(&self) -> semver::Version {
        self.clone()
    }
}

/// A `semver::VersionReq` as its comparators (build.rs refuses pre-releases, so each is a
/// constant).
#[derive(Debug)]
pub struct Req(pub &'static [semver::Comparator]);

impl Own for Req {
    type Owned = semver::VersionReq;
    fn own(&self) -> semver::VersionReq {
        semver::VersionReq {
            comparators: self.0.to_vec(),
        }
    }
}

macro_rules! copied {
    ($($t:ty),*) => {$(
        impl Own for $t {
            type Owned = $t;
            fn own(&self) -> $t {
                *self
            }
        }
    )*};
}
copied!(
    bool,
    RuleKind,
    DefectFix,
    Feature,
    PullSecretForm,
    DeploymentMode
);

/// A `serde_yaml::Value` (the values a release always sets); a mapping keeps its order.
#[derive(Debug)]
#[allow(dead_code)] // what today's catalog files hold uses only some variants; build.rs writes any
pub enum Value {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    String(&'static str),
    Sequence(&'static [Value]),
    Mapping(&'static [(Value, Value)]),
}

impl Own for Value {
    type Owned = serde_yaml::Value;
    fn own(&self) -> serde_yaml::Value {
        use serde_yaml::{Number, Value as V};
        match self {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::U64(n) => V::Number(Number::from(*n)),
            Value::I64(n) => V::Number(Number::from(*n)),
            Value::F64(n) => V::Number(Number::from(*n)),
            Value::String(s) => V::String(s.own()),
            Value::Sequence(items) => V::Sequence(items.own()),
            Value::Mapping(pairs) => V::Mapping(
                pairs
                    .iter()
                    .map(|(k, v)| (k.own(), v.own()))
                    .collect::<serde_yaml::Mapping>(),
            ),
        }
    }
}

/// `mirror! { Type { field: StaticType, … } }`: the static struct and its conversion into
/// `types::Type`.
macro_rules! mirror {
    ($($t:ident { $($f:ident: $ty:ty),* $(,)? })*) => {$(
        #[derive(Debug)]
        pub struct $t {
            $(pub $f: $ty),*
        }

        impl Own for $t {
            type Owned = owned::$t;
            fn own(&self) -> owned::$t {
                owned::$t { $($f: self.$f.own()),* }
            }
        }
    )*};
}

type Str = &'static str;
type List<T> = &'static [T];

mirror! {
    GlobalRules { known_bad: List<KnownBad> }
    KnownBad { component: Str, version: Str, why: Str, source: Str }
    ComponentVersion {
        component: Str,
        version: Str,
        label: Str,
        kubernetes: KubeRange,
        rules: List<Rule>,
        installs: Option<Installs>,
        releases: List<ReleaseEntry>,
        migrations: List<Migration>,
    }
    Migration { id: Str, from_below: Str, why: Str, steps: List<Str>, source: Str }
    ModeWords { serverless: Str, raw_deployment: Str, source: Str }
    KubeRange { min: Str, max: Option<Str>, source: Str }
    Rule {
        id: Str,
        kind: RuleKind,
        component: Str,
        min: Option<Str>,
        versions: Option<List<Str>>,
        per_kubernetes: Option<Map<List<Str>>>,
        mode: Option<DeploymentMode>,
        why: Str,
        source: Str,
    }
    Installs {
        serving: VersionSpan,
        source: Str,
        net_istio: Map<NetIstio>,
        net_istio_source: Str,
    }
    VersionSpan { min: semver::Version, max: semver::Version }
    NetIstio { version: Str, images: List<CatalogImage> }
    ReleaseEntry {
        name: Str,
        namespace: Str,
        chart: Option<Chart>,
        needs: List<Str>,
        values: Option<Value>,
        deployment_mode_path: Option<Str>,
        deployment_mode_words: Option<ModeWords>,
        runtime_disabled: Option<Str>,
        domain_path: Option<Str>,
        url_scheme_path: Option<Str>,
        workloads: List<Workload>,
        images: List<CatalogImage>,
        images_source: Option<Str>,
        glue: List<Feature>,
        defects: List<ChartDefect>,
        values_keys: List<Str>,
        pull_secrets: List<PullSecretKey>,
    }
    PullSecretKey { path: Str, form: PullSecretForm, source: Str }
    ChartDefect { id: Str, helm: Req, why: Str, source: Str, fix: DefectFix }
    Chart { repository: Str, name: Str, version: Str, source: Str, digest: Option<Str> }
    Workload { id: Str, path: Option<Str>, knative_workload: Option<KnativeWorkload> }
    KnativeWorkload { name: Str, container: Str }
    CatalogImage { id: Str, reference: Str, runtime: Option<Str>, set: List<SetAt> }
}

/// `types::SetAt`.
#[derive(Debug)]
pub enum SetAt {
    Values(ValuesKeys),
    Hub { hub: Str, tag: Str },
    KnativeOverride(Str),
    KnativeConfig { configmap: Str, key: Str },
    Follows(Str),
}

impl Own for SetAt {
    type Owned = owned::SetAt;
    fn own(&self) -> owned::SetAt {
        match self {
            SetAt::Values(k) => owned::SetAt::Values(k.own()),
            SetAt::Hub { hub, tag } => owned::SetAt::Hub {
                hub: hub.own(),
                tag: tag.own(),
            },
            SetAt::KnativeOverride(k) => owned::SetAt::KnativeOverride(k.own()),
            SetAt::KnativeConfig { configmap, key } => owned::SetAt::KnativeConfig {
                configmap: configmap.own(),
                key: key.own(),
            },
            SetAt::Follows(id) => owned::SetAt::Follows(id.own()),
        }
    }
}

/// `types::ValuesKeys`.
#[derive(Debug)]
#[allow(dead_code)] // what today's catalog files hold uses only some variants; build.rs writes any
pub enum ValuesKeys {
    RepositoryTag { repository: Str, tag: Str },
    Reference { reference: Str },
    RepositoryDigest { repository: Str, digest: Str },
}

impl Own for ValuesKeys {
    type Owned = owned::ValuesKeys;
    fn own(&self) -> owned::ValuesKeys {
        match self {
            ValuesKeys::RepositoryTag { repository, tag } => owned::ValuesKeys::RepositoryTag {
                repository: repository.own(),
                tag: tag.own(),
            },
            ValuesKeys::Reference { reference } => owned::ValuesKeys::Reference {
                reference: reference.own(),
            },
            ValuesKeys::RepositoryDigest { repository, digest } => {
                owned::ValuesKeys::RepositoryDigest {
                    repository: repository.own(),
                    digest: digest.own(),
                }
            }
        }
    }
}
