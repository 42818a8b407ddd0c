//! The local server's configuration, its in-process job loop (`job_loop`) and its SQS poller; `main.rs`
//! wires them.

pub mod config;
pub mod job_loop;
pub mod sqs_poller;
