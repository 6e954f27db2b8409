//! cobra's positional-argument checks, with its messages (podman prints them verbatim).

use crate::exit::Failure;

/// cobra's `ExactArgs(n)`.
pub fn exact_args(args: &[String], n: usize) -> Result<(), Failure> {
    if args.len() != n {
        return Err(Failure::msg(format!(
            "accepts {n} arg(s), received {}",
            args.len()
        )));
    }
    Ok(())
}
