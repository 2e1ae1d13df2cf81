//! Reading what the user hands deploygen: every input file of every command is read here,
//! bounded, so a stream such as `/dev/zero` cannot make deploygen read more than the limit plus
//! one byte.

use std::path::Path;

use crate::base::error::{Error, Result};
use crate::model::matrix::MAX_MATRIX_BYTES;

/// Reads a matrix from a file or stream, at most `MAX_MATRIX_BYTES + 1` bytes.
pub fn read_matrix(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bytes = crate::disk::fs_safe::read_bounded(file, MAX_MATRIX_BYTES as u64)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() > MAX_MATRIX_BYTES {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "is more than {MAX_MATRIX_BYTES} bytes (reading stopped there); a matrix is a \
                 few KiB: is this the right file?"
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_of_exactly_the_size_limit_is_read_one_byte_more_is_not() {
        let d = tempfile::tempdir().unwrap();
        let at = d.path().join("matrix.yaml");
        std::fs::write(&at, "#".repeat(MAX_MATRIX_BYTES)).unwrap();
        assert_eq!(read_matrix(&at).unwrap().len(), MAX_MATRIX_BYTES);
        std::fs::write(&at, "#".repeat(MAX_MATRIX_BYTES + 1)).unwrap();
        let e = read_matrix(&at).unwrap_err().to_string();
        assert!(
            e.contains(&format!("is more than {MAX_MATRIX_BYTES} bytes")),
            "{e}"
        );
    }
}
