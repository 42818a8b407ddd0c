//! The docs against the code.
