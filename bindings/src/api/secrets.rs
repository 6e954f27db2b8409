//! Secrets (values never logged).
