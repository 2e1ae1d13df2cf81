//! Writes catalog data as Rust code: build.rs parses the compiled-in catalog once, at build
//! time, and emits each value as a constant expression of the static mirror types
//! (`catalog/statics.rs`; `Rust` below), so deploygen does no YAML parsing of its own catalog
//! when it runs and carries it as `static` data. Included by build.rs only (by path), next to
//! `types.rs`; the generated code names the types by their `crate::catalog::statics::` path.

use std::collections::BTreeMap;

use super::types::*;

/// A value that can be written as a constant Rust expression of its static mirror type.
pub trait Rust {
    fn rust(&self) -> String;
}

const P: &str = "crate::catalog::statics";

impl Rust for String {
    fn rust(&self) -> String {
        format!("{self:?}")
    }
}

impl Rust for bool {
    fn rust(&self) -> String {
        self.to_string()
    }
}

impl<T: Rust> Rust for Option<T> {
    fn rust(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.rust()),
            None => "None".into(),
        }
    }
}

impl<T: Rust> Rust for Vec<T> {
    fn rust(&self) -> String {
        let items: Vec<String> = self.iter().map(Rust::rust).collect();
        format!("&[{}]", items.join(", "))
    }
}

impl<V: Rust> Rust for BTreeMap<String, V> {
    fn rust(&self) -> String {
        let items: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("({}, {})", k.rust(), v.rust()))
            .collect();
        format!("{P}::Map(&[{}])", items.join(", "))
    }
}

impl Rust for semver::Version {
    fn rust(&self) -> String {
        // Build metadata and pre-releases never occur in the catalog's spans; build.rs refuses
        // them so the static value is a constant.
        assert!(
            self.pre.is_empty() && self.build.is_empty(),
            "catalog version {self} has a pre-release or build part"
        );
        format!(
            "semver::Version::new({}, {}, {})",
            self.major, self.minor, self.patch
        )
    }
}

impl Rust for semver::VersionReq {
    fn rust(&self) -> String {
        let comparators: Vec<String> = self
            .comparators
            .iter()
            .map(|c| {
                assert!(
                    c.pre.is_empty(),
                    "catalog version requirement {self} has a pre-release"
                );
                let op = match c.op {
                    semver::Op::Exact => "Exact",
                    semver::Op::Greater => "Greater",
                    semver::Op::GreaterEq => "GreaterEq",
                    semver::Op::Less => "Less",
                    semver::Op::LessEq => "LessEq",
                    semver::Op::Tilde => "Tilde",
                    semver::Op::Caret => "Caret",
                    semver::Op::Wildcard => "Wildcard",
                    _ => panic!("catalog version requirement {self}: unsupported operator"),
                };
                format!(
                    "semver::Comparator {{ op: semver::Op::{op}, major: {}, minor: {:?}, patch: {:?}, pre: semver::Prerelease::EMPTY }}",
                    c.major, c.minor, c.patch
                )
            })
            .collect();
        format!("{P}::Req(&[{}])", comparators.join(", "))
    }
}

impl Rust for serde_yaml::Value {
    fn rust(&self) -> String {
        use serde_yaml::Value as V;
        match self {
            V::Null => format!("{P}::Value::Null"),
            V::Bool(b) => format!("{P}::Value::Bool({b})"),
            V::Number(n) => {
                if let Some(u) = n.as_u64() {
                    format!("{P}::Value::U64({u})")
                } else if let Some(i) = n.as_i64() {
                    format!("{P}::Value::I64({i})")
                } else {
                    let f = n.as_f64().unwrap_or_default();
                    assert!(f.is_finite(), "catalog value {f} is not a finite number");
                    format!("{P}::Value::F64({f:?})")
                }
            }
            V::String(s) => format!("{P}::Value::String({})", s.rust()),
            V::Sequence(items) => format!("{P}::Value::Sequence({})", items.rust()),
            V::Mapping(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("({}, {})", k.rust(), v.rust()))
                    .collect();
                format!("{P}::Value::Mapping(&[{}])", items.join(", "))
            }
            V::Tagged(_) => {
                panic!("catalog values hold a YAML tag, which the catalog does not use")
            }
        }
    }
}

impl Rust for crate::model::matrix::DeploymentMode {
    fn rust(&self) -> String {
        format!("crate::model::matrix::DeploymentMode::{self:?}")
    }
}

macro_rules! unit_enum {
    ($($t:ident),*) => {$(
        impl Rust for $t {
            fn rust(&self) -> String {
                format!("{P}::{}::{self:?}", stringify!($t))
            }
        }
    )*};
}
unit_enum!(RuleKind, DefectFix, Feature, PullSecretForm);

/// `struct_rust!(Type { field, … })`: a struct literal naming every field, so a field added to
/// a type and not here fails the build (exhaustive destructuring).
macro_rules! struct_rust {
    ($($t:ident { $($f:ident),* $(,)? })*) => {$(
        impl Rust for $t {
            fn rust(&self) -> String {
                let $t { $($f),* } = self;
                let fields: Vec<String> = vec![$(format!("{}: {}", stringify!($f), $f.rust())),*];
                format!("{P}::{} {{ {} }}", stringify!($t), fields.join(", "))
            }
        }
    )*};
}

struct_rust! {
    GlobalRules { known_bad }
    KnownBad { component, version, why, source }
    ComponentVersion { component, version, label, kubernetes, rules, installs, releases, migrations }
    Migration { id, from_below, why, steps, source }
    ModeWords { serverless, raw_deployment, source }
    KubeRange { min, max, source }
    Rule { id, kind, component, min, versions, per_kubernetes, mode, why, source }
    Installs { serving, source, net_istio, net_istio_source }
    VersionSpan { min, max }
    NetIstio { version, images }
    ReleaseEntry {
        name, namespace, chart, needs, values, deployment_mode_path, deployment_mode_words,
        runtime_disabled, domain_path,
        url_scheme_path, workloads, images, images_source, glue, defects, values_keys,
        pull_secrets,
    }
    PullSecretKey { path, form, source }
    ChartDefect { id, helm, why, source, fix }
    Chart { repository, name, version, source, digest }
    Workload { id, path, knative_workload }
    KnativeWorkload { name, container }
    CatalogImage { id, reference, runtime, set }
}

impl Rust for SetAt {
    fn rust(&self) -> String {
        match self {
            SetAt::Values(k) => format!("{P}::SetAt::Values({})", k.rust()),
            SetAt::Hub { hub, tag } => format!(
                "{P}::SetAt::Hub {{ hub: {}, tag: {} }}",
                hub.rust(),
                tag.rust()
            ),
            SetAt::KnativeOverride(k) => format!("{P}::SetAt::KnativeOverride({})", k.rust()),
            SetAt::KnativeConfig { configmap, key } => format!(
                "{P}::SetAt::KnativeConfig {{ configmap: {}, key: {} }}",
                configmap.rust(),
                key.rust()
            ),
            SetAt::Follows(id) => format!("{P}::SetAt::Follows({})", id.rust()),
        }
    }
}

impl Rust for ValuesKeys {
    fn rust(&self) -> String {
        match self {
            ValuesKeys::RepositoryTag { repository, tag } => format!(
                "{P}::ValuesKeys::RepositoryTag {{ repository: {}, tag: {} }}",
                repository.rust(),
                tag.rust()
            ),
            ValuesKeys::Reference { reference } => format!(
                "{P}::ValuesKeys::Reference {{ reference: {} }}",
                reference.rust()
            ),
            ValuesKeys::RepositoryDigest { repository, digest } => format!(
                "{P}::ValuesKeys::RepositoryDigest {{ repository: {}, digest: {} }}",
                repository.rust(),
                digest.rust()
            ),
        }
    }
}
