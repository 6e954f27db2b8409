//! Registry operations: pull with progress, push, search, login checks.
