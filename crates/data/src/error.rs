//! The one error type of `yrd-data`. Every reader reports where the bad input is: file name, line
//! (the header is line 1), field and a reason, so a user can fix the file without reading code.

/// An error while reading an input file.
///
/// Marked `#[non_exhaustive]` so that readers for further sources can add variants without breaking
/// callers that match on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A record that does not satisfy the file's format rules.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    Malformed {
        /// The file (or source name) that was being read.
        file: String,
        /// 1-based line number of the record; the header is line 1.
        line: u64,
        /// The column (field) at fault.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file could not be read at all.
    #[error("{file}: {source}")]
    Io {
        /// The file that was being read.
        file: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl DataError {
    /// Builds a [`DataError::Malformed`].
    pub fn malformed(
        file: impl Into<String>,
        line: u64,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Malformed {
            file: file.into(),
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }
}
