//! Error text as a command should say it. The library's errors end with "nothing was written"
//! because the commands that write must say so; a command that never writes (check, diff,
//! audit, explain, images ...) drops that note: it would suggest a write was attempted.

/// `message` without the "nothing was written" notes the error text carries for writers.
pub fn for_read_only(message: &str) -> String {
    let mut out = message
        .replace("; nothing was written", "")
        .replace("\nnothing was written", "");
    if let Some(rest) = out.strip_prefix("nothing was written") {
        out = rest.trim_start_matches(['\n', '.', ' ']).to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_notes_go_and_nothing_else_does() {
        assert_eq!(
            for_read_only("error: m.yaml:3:1: bad\nnothing was written"),
            "error: m.yaml:3:1: bad"
        );
        assert_eq!(
            for_read_only("error: a\nerror: b\n2 problems; nothing was written"),
            "error: a\nerror: b\n2 problems"
        );
        assert_eq!(
            for_read_only("error: t/.lock: the tree is locked by pid 1 render; nothing was written. Wait for it"),
            "error: t/.lock: the tree is locked by pid 1 render. Wait for it"
        );
        assert_eq!(for_read_only("nothing was written"), "");
        assert_eq!(
            for_read_only("error: x: No such file"),
            "error: x: No such file"
        );
    }
}
