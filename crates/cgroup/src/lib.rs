//! containerlab-cgroup (being written)
