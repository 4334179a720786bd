//! containerlab
