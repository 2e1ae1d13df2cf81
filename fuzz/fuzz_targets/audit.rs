//! Arbitrary text as `deploygen audit` input for the default matrix's `online` environment.
//! Findings (`Ok`) and a refusal of the input (`Error::Invalid`) are fine; a panic or any
//! other error kind is a finding, and so is a slow input (libFuzzer's `-timeout`): the stream
//! passes the YAML door's pre-scan before the YAML library sees it.
#![no_main]

use std::sync::OnceLock;

use deploygen::audit::{audit, Options};
use deploygen::Error;
use libfuzzer_sys::fuzz_target;

const MATRIX: &str = include_str!("../../matrix.yaml");

fn plan() -> &'static deploygen::plan::Plan {
    static PLAN: OnceLock<deploygen::plan::Plan> = OnceLock::new();
    PLAN.get_or_init(|| deploygen::plan("matrix.yaml", MATRIX.as_bytes()).expect("plans"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // the CLI refuses it before the reader (`read_manifests`)
    };
    let opts = Options {
        env: "online".into(),
        releases: Vec::new(),
        operator_manifests: None,
    };
    match audit(plan(), &opts, "in.yaml", text) {
        Ok(_) => {}
        Err(Error::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid with no problem");
            let _ = Error::Invalid(problems).to_string();
        }
        Err(e) => panic!("audit input was neither audited nor refused: {e:?}"),
    }
});
