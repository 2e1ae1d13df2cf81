//! What a review finds: one located finding per change that matters, each of a class a team
//! can gate on (`--fail-on`).

use serde::Serialize;

/// The classes of finding, in the order a review reports them (most consequential first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    ImageChanged,
    ImageAdded,
    ImageRemoved,
    ImageUnlisted,
    RbacWidening,
    RbacRuleGained,
    RbacRuleLost,
    RbacBindingChanged,
    CrdVersionRemoved,
    CrdStorageChanged,
    CrdFieldRemoved,
    CrdConversionChanged,
    CrdVersionAdded,
    WebhookAdded,
    WebhookRemoved,
    WebhookFailurePolicy,
    WebhookTimeout,
    WebhookRulesChanged,
    WebhookServiceChanged,
    ServiceChanged,
    NetworkPolicyChanged,
    PeerAuthenticationChanged,
    SecurityWidening,
    SecurityChanged,
    CapacityExceeded,
    ResourcesChanged,
    ReplicasChanged,
    ObjectAdded,
    ObjectRemoved,
    Changed,
}

impl Class {
    pub const ALL: [Class; 30] = [
        Class::ImageChanged,
        Class::ImageAdded,
        Class::ImageRemoved,
        Class::ImageUnlisted,
        Class::RbacWidening,
        Class::RbacRuleGained,
        Class::RbacRuleLost,
        Class::RbacBindingChanged,
        Class::CrdVersionRemoved,
        Class::CrdStorageChanged,
        Class::CrdFieldRemoved,
        Class::CrdConversionChanged,
        Class::CrdVersionAdded,
        Class::WebhookAdded,
        Class::WebhookRemoved,
        Class::WebhookFailurePolicy,
        Class::WebhookTimeout,
        Class::WebhookRulesChanged,
        Class::WebhookServiceChanged,
        Class::ServiceChanged,
        Class::NetworkPolicyChanged,
        Class::PeerAuthenticationChanged,
        Class::SecurityWidening,
        Class::SecurityChanged,
        Class::CapacityExceeded,
        Class::ResourcesChanged,
        Class::ReplicasChanged,
        Class::ObjectAdded,
        Class::ObjectRemoved,
        Class::Changed,
    ];

    /// The name `--fail-on` and the outputs use (`rbac-widening`).
    pub fn name(self) -> &'static str {
        match self {
            Class::ImageChanged => "image-changed",
            Class::ImageAdded => "image-added",
            Class::ImageRemoved => "image-removed",
            Class::ImageUnlisted => "image-unlisted",
            Class::RbacWidening => "rbac-widening",
            Class::RbacRuleGained => "rbac-rule-gained",
            Class::RbacRuleLost => "rbac-rule-lost",
            Class::RbacBindingChanged => "rbac-binding-changed",
            Class::CrdVersionRemoved => "crd-version-removed",
            Class::CrdStorageChanged => "crd-storage-changed",
            Class::CrdFieldRemoved => "crd-field-removed",
            Class::CrdConversionChanged => "crd-conversion-changed",
            Class::CrdVersionAdded => "crd-version-added",
            Class::WebhookAdded => "webhook-added",
            Class::WebhookRemoved => "webhook-removed",
            Class::WebhookFailurePolicy => "webhook-failure-policy",
            Class::WebhookTimeout => "webhook-timeout",
            Class::WebhookRulesChanged => "webhook-rules-changed",
            Class::WebhookServiceChanged => "webhook-service-changed",
            Class::ServiceChanged => "service-changed",
            Class::NetworkPolicyChanged => "network-policy-changed",
            Class::PeerAuthenticationChanged => "peer-authentication-changed",
            Class::SecurityWidening => "security-widening",
            Class::SecurityChanged => "security-changed",
            Class::CapacityExceeded => "capacity-exceeded",
            Class::ResourcesChanged => "resources-changed",
            Class::ReplicasChanged => "replicas-changed",
            Class::ObjectAdded => "object-added",
            Class::ObjectRemoved => "object-removed",
            Class::Changed => "changed",
        }
    }

    /// The section of the report the class belongs to.
    pub fn section(self) -> &'static str {
        match self {
            Class::ImageChanged
            | Class::ImageAdded
            | Class::ImageRemoved
            | Class::ImageUnlisted => "Images",
            Class::RbacWidening
            | Class::RbacRuleGained
            | Class::RbacRuleLost
            | Class::RbacBindingChanged => "RBAC",
            Class::CrdVersionRemoved
            | Class::CrdStorageChanged
            | Class::CrdFieldRemoved
            | Class::CrdConversionChanged
            | Class::CrdVersionAdded => "CRDs",
            Class::WebhookAdded
            | Class::WebhookRemoved
            | Class::WebhookFailurePolicy
            | Class::WebhookTimeout
            | Class::WebhookRulesChanged
            | Class::WebhookServiceChanged => "Admission webhooks",
            Class::ServiceChanged
            | Class::NetworkPolicyChanged
            | Class::PeerAuthenticationChanged
            | Class::SecurityWidening
            | Class::SecurityChanged
            | Class::CapacityExceeded
            | Class::ResourcesChanged
            | Class::ReplicasChanged => "Workload surface",
            Class::ObjectAdded | Class::ObjectRemoved => "Objects added and removed",
            Class::Changed => "Other changes",
        }
    }

    /// A class whose findings weaken or may break a cluster (coloured red in text).
    pub fn alarming(self) -> bool {
        matches!(
            self,
            Class::ImageUnlisted
                | Class::RbacWidening
                | Class::CrdVersionRemoved
                | Class::CrdFieldRemoved
                | Class::CrdStorageChanged
                | Class::WebhookFailurePolicy
                | Class::SecurityWidening
                | Class::CapacityExceeded
        )
    }

    /// The class called `name`, if any.
    pub fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One change that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: Class,
    /// `Kind namespace/name` (or `Kind name`) of the object, as in the AFTER stack when it is
    /// there.
    pub object: String,
    /// Field path inside the object (empty for the object as a whole).
    pub path: String,
    pub message: String,
    /// Further lines (structural changes, removed schema fields).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Finding {
    pub fn new(
        class: Class,
        object: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            class,
            object: object.into(),
            path: path.into(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Vec<String>) -> Finding {
        self.details = details;
        self
    }
}
