//! The local server's configuration, its listener (`serve`), its in-process job loop (`job_loop`) and
//! its SQS poller; `main.rs` wires them.

pub mod config;
pub mod job_loop;
pub mod serve;
pub mod sqs_poller;
