//! containerlab-oci (being written)
