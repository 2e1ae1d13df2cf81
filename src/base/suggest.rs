//! "Did you mean" hints for misspelt keys and enum values in serde's messages.

/// If `message` is serde's "unknown field `x`, expected one of `a`, `b`" (or the variant
/// equivalent), append the closest expected name when it is a plausible typo.
pub fn did_you_mean(message: &str) -> String {
    // serde_yaml may put the key path first: "environments.online: unknown field `x`, …".
    let Some(at) = message
        .find("unknown field `")
        .or_else(|| message.find("unknown variant `"))
    else {
        return message.to_string();
    };
    let (Some(got), Some(expected)) = (first_quoted(&message[at..]), message.find("expected"))
    else {
        return message.to_string();
    };
    let candidates = all_quoted(&message[expected..]);
    match closest(got, candidates.iter().map(String::as_str)) {
        Some(best) => format!("{message} (did you mean `{best}`?)"),
        None => message.to_string(),
    }
}

/// ` (did you mean `x`?)` for the nearest candidate, or nothing when none is close.
pub fn hint<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// The candidate nearest to `word` within an edit distance that a typo plausibly explains.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn first_quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

fn all_quoted(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, w)| w.to_string())
        .collect()
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_field() {
        let m = "unknown field `profle`, expected one of `cluster`, `profile`, `mirror`";
        assert!(did_you_mean(m).ends_with("(did you mean `profile`?)"));
    }

    #[test]
    fn works_behind_a_key_path() {
        let m = "environments.online: unknown variant `Serverles`, expected `Serverless` or `RawDeployment`";
        assert!(did_you_mean(m).ends_with("(did you mean `Serverless`?)"));
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        let m = "unknown field `zzzzzzzz`, expected one of `cluster`, `profile`";
        assert_eq!(did_you_mean(m), m);
    }
}
