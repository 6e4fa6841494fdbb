//! Where a trace to replay or export comes from: a file the user names, or
//! the recording compiled into zc.

use crate::{exit::Fatal, recording::Loaded};

/// Reads the trace at `file`, or else the bundled recording `bundled` (the
/// default one when None). A file that is not a readable trace is a usage
/// error naming the file.
pub fn load(file: Option<&std::path::Path>, bundled: Option<&str>) -> anyhow::Result<Loaded> {
    match file {
        Some(path) => {
            let bytes = crate::tracefile::read(path)?;
            crate::recording::load(&bytes)
                .map_err(|e| Fatal::Usage(format!("{}: {e}", path.display())).into())
        }
        None => crate::bundled::load(bundled),
    }
}
