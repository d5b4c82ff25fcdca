//! The API's routes, one module per resource.

pub(crate) mod chat;
pub(crate) mod health;
