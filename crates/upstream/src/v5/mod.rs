//! REST Countries v5: the client, and the one description of v5's country document with its mapping
//! onto the v3.1 shape.

mod client;
mod document;
mod shapes;

pub use client::V5;
pub use document::{Document, Unfit};
