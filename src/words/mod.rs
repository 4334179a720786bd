//! Words for people about what the engine did: the engine answers with facts (an errno, the
//! namespaces a shell joined, the ids it took on), and these modules say them in the learner's
//! language.

pub mod errno;
pub mod shell;
