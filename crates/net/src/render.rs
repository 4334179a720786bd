//! Showing a snapshot the way `ip -br link`, `ip -br addr` and `ip route` print it, so the
//! learner can compare with what the real tool shows on their own machine.

use crate::snapshot::{Link, NetSnapshot, Route};

impl Link {
    /// The name as `ip` prints it: `veth0@veth1` when the peer is in this namespace,
    /// `veth0@if7` when it is in another one (only its index there is known).
    pub fn display_name(&self) -> String {
        match (self.peer_index, self.link_netnsid, &self.peer_name) {
            (None, _, _) => self.name.clone(),
            (Some(0), _, _) => format!("{}@NONE", self.name),
            (Some(i), Some(_), _) => format!("{}@if{i}", self.name),
            (Some(_), None, Some(peer)) => format!("{}@{peer}", self.name),
            (Some(i), None, None) => format!("{}@if{i}", self.name),
        }
    }
}

impl Route {
    /// One line of `ip route`.
    pub fn render(&self) -> String {
        let mut line = String::new();
        if self.kind != "unicast" {
            line.push_str(&self.kind);
            line.push(' ');
        }
        match self.dst {
            None if self.dst_len == 0 => line.push_str("default"),
            None => line.push_str(&format!("0.0.0.0/{}", self.dst_len)),
            Some(dst) if self.dst_len == 32 => line.push_str(&dst.to_string()),
            Some(dst) => line.push_str(&format!("{dst}/{}", self.dst_len)),
        }
        if let Some(via) = self.via {
            line.push_str(&format!(" via {via}"));
        }
        if let Some(dev) = &self.dev {
            line.push_str(&format!(" dev {dev}"));
        }
        // Like `ip`, hide the defaults: routes added by an administrator and global scope.
        if self.protocol != "boot" {
            line.push_str(&format!(" proto {}", self.protocol));
        }
        if self.scope != "global" {
            line.push_str(&format!(" scope {}", self.scope));
        }
        if let Some(src) = self.src {
            line.push_str(&format!(" src {src}"));
        }
        if let Some(metric) = self.metric {
            line.push_str(&format!(" metric {metric}"));
        }
        if self.linkdown {
            line.push_str(" linkdown");
        }
        line
    }
}

impl NetSnapshot {
    /// Like `ip -br link`: name, state, MAC address, flags; one line per interface.
    pub fn render_ip_link(&self) -> String {
        self.links
            .iter()
            .map(|l| {
                format!(
                    "{:<16} {:<14} {} <{}>\n",
                    l.display_name(),
                    l.state,
                    l.mac.as_deref().unwrap_or(""),
                    l.flags.join(",")
                )
            })
            .collect()
    }

    /// Like `ip -br addr`: name, state, then every address with its prefix length.
    pub fn render_ip_addr(&self) -> String {
        self.links
            .iter()
            .map(|l| {
                let addrs: Vec<String> = self
                    .addresses
                    .iter()
                    .filter(|a| a.index == l.index)
                    .map(|a| format!("{}/{}", a.address, a.prefix_len))
                    .collect();
                let line = format!(
                    "{:<16} {:<14} {}",
                    l.display_name(),
                    l.state,
                    addrs.join(" ")
                );
                // A link without addresses ends after its padded state; drop the padding.
                format!("{}\n", line.trim_end())
            })
            .collect()
    }

    /// Like `ip route`: the IPv4 routes of the main table.
    pub fn render_ip_route(&self) -> String {
        self.routes
            .iter()
            .map(|r| format!("{}\n", r.render()))
            .collect()
    }
}
