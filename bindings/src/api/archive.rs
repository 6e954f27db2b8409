//! cp: the archive endpoint (stat, copy in, copy out).
