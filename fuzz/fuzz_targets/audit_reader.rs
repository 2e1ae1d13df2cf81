//! Arbitrary bytes as the manifests `deploygen audit` reads (what `helmfile template` prints),
//! audited against the default matrix's plan: the manifest reader (`audit::manifest::read`)
//! and every check behind it. Refusing the input (`Error::Invalid`) is fine, and so are
//! findings; a panic or any other error kind is a finding of the fuzzer.
//!
//! The first byte picks the environment (modulo their number) and whether only the `kserve`
//! release was rendered (top bit); the rest is the manifest stream.
#![no_main]

use std::sync::OnceLock;

use deploygen::audit::{audit, Options};
use deploygen::plan::Plan;
use deploygen::Error;
use libfuzzer_sys::fuzz_target;

const MATRIX: &str = include_str!("../../matrix.yaml");

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| deploygen::plan("matrix.yaml", MATRIX.as_bytes()).expect("default matrix"))
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let plan = plan();
    let env = &plan.environments[usize::from(pick & 0x7f) % plan.environments.len()];
    let releases = if pick & 0x80 != 0 && env.installs("kserve") {
        vec!["kserve".to_string()]
    } else {
        Vec::new()
    };
    let opts = Options {
        env: env.name.clone(),
        releases,
        operator_manifests: None,
    };
    let text = String::from_utf8_lossy(rest);
    match audit(plan, &opts, "rendered.yaml", &text) {
        Ok(a) => {
            let _ = (a.failures(), a.text(), a.json());
        }
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid with no problem");
            let _ = Error::Invalid(problems).to_string();
        }
        Err(e) => panic!("audit returned {e:?}"),
    }
});
