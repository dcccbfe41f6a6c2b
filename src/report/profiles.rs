//! Application inference profiles in the report: resolved in [`crate::aws::profiles`], which
//! `limits` shares.

pub use crate::aws::profiles::{ProfileRef, looks_like_profile, resolve};
