//! The tree committed next to the generator is exactly what the generator renders from the
//! committed matrix (the typos/cargo-dist pattern: generated output is checked in and
//! verified). If this fails, run `cargo run -- render` and commit the result.

mod common;

use common::{repo_root, MATRIX};

#[test]
fn committed_tree_is_current() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let root = repo_root();
    let diff = deploygen::disk::diff(&root, &tree).unwrap();
    assert!(
        diff.is_empty(),
        "the committed tree is stale; run `cargo run -- render`:\n{diff}"
    );
}

#[test]
fn committed_schema_matches_the_matrix_types() {
    let on_disk = std::fs::read_to_string(repo_root().join("matrix.schema.json")).unwrap();
    assert_eq!(on_disk, deploygen::model::matrix::json_schema());
    assert!(MATRIX.starts_with("# yaml-language-server: $schema=./matrix.schema.json\n"));
}

/// The schema a run writes is a constant (`src/model/matrix.schema.json`, so no run builds it),
/// and so is its SHA-256 (`.sha256` beside it, so no run hashes it): they must be what schemars
/// builds from the matrix types and its hash. `DEPLOYGEN_BLESS=1` rewrites both.
#[test]
fn the_kept_schema_is_schemars_output_for_the_matrix_types() {
    let built = deploygen::model::matrix::generated_json_schema();
    if std::env::var_os("DEPLOYGEN_BLESS").is_some() {
        std::fs::write(repo_root().join("src/model/matrix.schema.json"), &built).unwrap();
        let sha = deploygen::base::sha256::hex(built.as_bytes());
        std::fs::write(
            repo_root().join("src/model/matrix.schema.json.sha256"),
            format!("{sha}\n"),
        )
        .unwrap();
        return;
    }
    assert!(
        deploygen::model::matrix::JSON_SCHEMA == built,
        "src/model/matrix.schema.json is not the schema of the matrix types: run \
         `DEPLOYGEN_BLESS=1 cargo test --test committed_tree`, then `cargo run -- render`"
    );
    assert_eq!(
        deploygen::model::matrix::json_schema_sha256(),
        deploygen::base::sha256::hex(built.as_bytes()),
        "src/model/matrix.schema.json.sha256 is not the schema's SHA-256: run \
         `DEPLOYGEN_BLESS=1 cargo test --test committed_tree`"
    );
}
