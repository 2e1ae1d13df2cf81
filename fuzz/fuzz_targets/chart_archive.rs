//! Arbitrary bytes as a chart archive `vendor` is handed, checked against the chart the
//! catalog pins (`disk::archive::check_chart_archive`, kserve v0.14.1). A refusal is fine
//! (its message must say what was expected); a panic is a finding, and so is an archive that
//! passes without being that chart.
//!
//! The first byte picks how the rest becomes an archive:
//!
//! | first byte | the archive |
//! |---|---|
//! | `0x01` | the rest gzipped: the tar reader sees the fuzzer's bytes directly |
//! | `0x02` | the rest as it is, with its own sha256 pinned as the digest |
//! | anything else | the whole input as it is, no digest |
#![no_main]

use std::io::Write;

use deploygen::disk::archive::check_chart_archive;
use libfuzzer_sys::fuzz_target;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

fuzz_target!(|data: &[u8]| {
    let (archive, digest) = match data.split_first() {
        Some((1, rest)) => (gzip(rest), None),
        Some((2, rest)) => (rest.to_vec(), Some(deploygen::base::sha256::digest(rest))),
        _ => (data.to_vec(), None),
    };
    match check_chart_archive(&archive, "kserve", "v0.14.1", digest.as_deref()) {
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains("expected the chart the catalog pins: kserve v0.14.1"),
                "{message}"
            );
        }
        Ok(()) => {
            // Passed: it must really hold kserve/Chart.yaml saying kserve v0.14.1.
            let files =
                deploygen::disk::archive::unpack(&archive, &deploygen::disk::archive::LIMITS)
                    .expect("a passing archive unpacks");
            let chart = String::from_utf8(files["kserve/Chart.yaml"].clone()).expect("UTF-8");
            let v: serde_yaml::Value = serde_yaml::from_str(&chart).expect("YAML");
            assert_eq!(v["name"].as_str(), Some("kserve"), "{chart}");
            assert_eq!(v["version"].as_str(), Some("v0.14.1"), "{chart}");
            assert!(files.keys().all(|k| k.starts_with("kserve/")), "{files:?}");
        }
    }
});
