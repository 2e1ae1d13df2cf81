//! `deploygen review BEFORE AFTER`: what a version bump really changes, read from two rendered
//! stacks (what `helmfile -e ENV template --include-crds` prints at the two commits), compared
//! object by object on identity (group, kind, namespace, name), never by lines, and reported
//! in order of consequence:
//!
//! - images added, removed or changed, and whether each new one is on the environment's
//!   mirror and image lists (`images`, on audit's image model);
//! - RBAC rules gained and lost per (Cluster)Role, widening called out, and bindings whose
//!   subjects or role changed (`rbac`);
//! - CRD versions served or stored, schema fields removed, conversion (`crds`);
//! - admission webhooks: added, removed, rules, failurePolicy, timeouts, service (`webhooks`);
//! - the workload surface: Services and ports, NetworkPolicies, PeerAuthentications,
//!   resources, replicas and the cluster's capacity, security contexts (`workload`);
//! - objects added or removed, and every other change as a structural diff (`structural`),
//!   folded by default.
//!
//! `compare` runs them; `format` prints the result as text, Markdown or JSON; `fail_on` reads
//! the `--fail-on` classes. Every finding has a class (`finding::Class`).

pub mod compare;
pub mod context;
pub mod crds;
pub mod fail_on;
pub mod finding;
pub mod format;
pub mod images;
pub mod objects;
pub mod rbac;
pub mod structural;
pub mod webhooks;
pub mod workload;
