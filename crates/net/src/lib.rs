//! containerlab-net (being written)
