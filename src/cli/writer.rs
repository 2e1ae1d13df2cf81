//! Before the writer's lock: a render that cannot be written is refused before the lock file
//! (or the output folder) is created, so a refused run creates nothing.

use std::path::Path;

use crate::base::error::Result;
use crate::disk::{self, TreeLock};

/// Refuses a tree that cannot be written before creating anything (the lock file included);
/// the locked run compares again. A refusal seen while another deploygen was swapping files in
/// could be that writer's half-done work, so it is confirmed under a reader's lock: the
/// result is then the real refusal, or "busy" naming the writer.
pub(super) fn refuse_early(out: &Path, tree: &crate::render::Tree) -> Result<()> {
    // A tree a writer locked before keeps its lock file: taking the lock again creates
    // nothing, and the locked run's comparison refuses just the same. Comparing here too would
    // read the whole tree twice.
    if TreeLock::present(out) {
        return Ok(());
    }
    if disk::preview(out, tree).is_err() {
        let _reader = TreeLock::shared_if_locked_before(out)?;
        disk::preview(out, tree)?;
    }
    Ok(())
}
