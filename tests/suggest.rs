//! "Did you mean" hints: the edit distance, the typo limit, the tie-break, and reading the
//! candidates out of serde's messages.

use deploygen::base::suggest::{closest, did_you_mean, edit_distance, hint};

#[test]
fn edit_distance_is_levenshtein_over_characters() {
    for (a, b, d) in [
        ("", "", 0),
        ("", "abc", 3),
        ("abc", "", 3),
        ("abc", "abc", 0),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("abc", "acb", 2),
        ("profle", "profile", 1),
        ("日本", "日", 1),
    ] {
        assert_eq!(edit_distance(a, b), d, "{a:?} -> {b:?}");
        assert_eq!(edit_distance(b, a), d, "{b:?} -> {a:?}");
    }
}

#[test]
fn a_typo_is_at_most_a_third_of_the_word_and_at_least_two_edits() {
    // 9 characters: up to 3 edits.
    assert_eq!(
        closest("abcdefghi", ["abcdefxyz"].into_iter()),
        Some("abcdefxyz")
    );
    assert_eq!(closest("abcdefghi", ["abcdewxyz"].into_iter()), None);
    // Short words still get 2 edits.
    assert_eq!(closest("ab", ["ba"].into_iter()), Some("ba"));
    assert_eq!(closest("ab", ["xyz"].into_iter()), None);
    // The nearest wins; among equally near ones, the first in sort order.
    assert_eq!(
        closest("profle", ["profiles", "profile", "cluster"].into_iter()),
        Some("profile")
    );
    assert_eq!(closest("ab", ["ac", "aa"].into_iter()), Some("aa"));
    assert_eq!(closest("x", std::iter::empty()), None);
}

#[test]
fn hint_is_a_parenthesised_suggestion_or_nothing() {
    assert_eq!(
        hint("recomended", ["minimal", "recommended"].into_iter()),
        " (did you mean `recommended`?)"
    );
    assert_eq!(
        hint("gpu-heavy", ["minimal", "recommended"].into_iter()),
        ""
    );
}

#[test]
fn did_you_mean_reads_the_candidates_after_expected() {
    let m = "unknown field `versons`, expected one of `versions`, `registries`, `profiles`";
    assert_eq!(did_you_mean(m), format!("{m} (did you mean `versions`?)"));
    // The unknown word itself is not a candidate (it is before `expected`).
    let m = "unknown variant `abc`, expected `xyz`";
    assert_eq!(did_you_mean(m), m);
    let m = "unknown variant `Serverles`, expected `Serverless` or `RawDeployment`";
    assert_eq!(did_you_mean(m), format!("{m} (did you mean `Serverless`?)"));
    // The second candidate is read too (every other back-quoted piece).
    let m = "unknown variant `RawDeploiment`, expected `Serverless` or `RawDeployment`";
    assert_eq!(
        did_you_mean(m),
        format!("{m} (did you mean `RawDeployment`?)")
    );
    // Messages of other kinds, and ones without candidates, are left alone.
    for m in [
        "invalid type: string \"four\", expected u32",
        "unknown field `x`",
        "unknown field `x, expected `x`",
        "missing field `kserve`",
    ] {
        assert_eq!(did_you_mean(m), m);
    }
}
