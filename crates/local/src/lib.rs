//! The local dev server's configuration and its in-process worker loop; `main.rs` only wires them.

pub mod config;
pub mod worker;
