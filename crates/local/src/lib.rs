//! The local server's configuration, its in-process worker loop and its SQS poller; `main.rs` wires them.

pub mod config;
pub mod sqs_poller;
pub mod worker;
