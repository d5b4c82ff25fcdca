//! The API's routes, one module per resource.

pub(crate) mod admin;
pub(crate) mod chat;
pub(crate) mod feedback;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod openai;
pub(crate) mod share;
pub(crate) mod staff;
pub(crate) mod web;
