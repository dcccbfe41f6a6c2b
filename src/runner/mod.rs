//! The limits runner's own machinery: this binary as an AWS Lambda function (`lambda`: the
//! custom-runtime loop, with the handler as a parameter) and the check that a file can be that
//! function's package (`package`: a Linux executable for x86_64 or arm64 that runs on Amazon
//! Linux 2023), and that package as a zip whose SHA-256 is the same for the same files
//! (`zip`). None knows what a pass does; the limits engine plugs its pass in as the
//! handler, and `apply` asks `package` before it uploads anything.

pub mod lambda;
pub mod package;
pub mod zip;
