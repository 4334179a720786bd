//! Live views rendered as text lines: what the learner sees beside a step. The TUI shows them in
//! panes; headless output prints them under the step. Everything is read from the inspector at
//! the moment of rendering.

use super::view_words as W;
use crate::i18n::fill;
use crate::inspect::{mounts, namespaces, process, process::ProcessView};
use crate::lesson::schema::View;
use serde::Serialize;
use std::collections::BTreeMap;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedView {
    pub view: View,
    pub title: String,
    pub lines: Vec<String>,
    /// How many of the first lines are column headings (kept in sight above any rows).
    pub header: usize,
    /// The lines (indexes) that show what the step's checks look at
    /// ([`super::focus::rows`]): a small pane shows them first.
    pub focus: Vec<usize>,
}

impl RenderedView {
    /// A view's lines with the focus on those of them that show `focus`.
    pub fn new(view: View, lines: Vec<String>, focus: &super::focus::Focus) -> RenderedView {
        RenderedView {
            view,
            title: title_in(view, "en").to_string(),
            focus: super::focus::rows(view, &lines, focus),
            header: super::focus::header_rows(view).min(lines.len()),
            lines,
        }
    }
}

/// The sandbox's processes, by name, with their host PIDs (running ones only), plus the host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subjects {
    pub pids: BTreeMap<String, i32>,
    /// The session id, which qualifies the lesson's cgroup names.
    pub session: String,
    /// Short names of the cgroups the lesson made.
    pub cgroups: Vec<String>,
    /// The image layout the lesson built, if any (for the `image` view).
    pub image: Option<std::path::PathBuf>,
    /// Unpacked layer directories, bottom first (for the `layers` view).
    pub layers: Vec<std::path::PathBuf>,
    /// The language of the views' own words (`en` when empty).
    pub lang: String,
    /// What the step shown is about: the lines that show it are marked.
    pub focus: super::focus::Focus,
}

/// A mount namespace's inode and the (name, pid) of the lab processes in it.
type MountNsGroup = (Option<u64>, Vec<(String, i32)>);

impl Subjects {
    /// (name, pid) of every lab process still alive, the holder (`sandbox`) last: the others
    /// are what the lesson made, the holder is the host-side reference.
    pub(super) fn alive(&self) -> Vec<(String, i32)> {
        let mut v: Vec<(String, i32)> = self
            .pids
            .iter()
            .filter(|(_, pid)| {
                ProcessView::read(**pid)
                    .is_some_and(|p| p.field("State").is_none_or(|s| !s.starts_with('Z')))
            })
            .map(|(n, p)| (n.clone(), *p))
            .collect();
        v.sort_by_key(|(n, _)| (n == "sandbox", n.clone()));
        v
    }

    /// The alive lab processes grouped by mount namespace (inode), in `alive` order.
    fn by_mount_ns(&self) -> Vec<MountNsGroup> {
        let mut groups: Vec<MountNsGroup> = Vec::new();
        for (name, pid) in self.alive() {
            let ns = namespaces::ns_inode(pid, "mnt");
            match groups.iter_mut().find(|(n, _)| *n == ns) {
                Some((_, members)) => members.push((name, pid)),
                None => groups.push((ns, vec![(name, pid)])),
            }
        }
        groups
    }
}

crate::i18n::messages! {
    T_NAMESPACES = "Namespaces (lsns)", "名前空間 (lsns)";
    T_NS_INODES = "/proc/PID/ns inodes", "/proc/PID/ns の inode";
    T_STATUS = "/proc/PID/status", "/proc/PID/status";
    T_PROCESSES = "Processes", "プロセス";
    T_MOUNTS = "Mounts (differences from the host)", "マウント (ホストとの違い)";
    T_ID_MAPS = "uid_map / gid_map", "uid_map / gid_map";
    T_CAPS = "Capabilities", "ケーパビリティ";
    T_CGROUPS = "/proc/PID/cgroup", "/proc/PID/cgroup";
    T_CGROUP = "The lesson's cgroup", "レッスンの cgroup";
    T_IMAGE = "OCI image: index.json → manifest → config", "OCI イメージ: index.json → manifest → config";
    T_LAYERS = "Layers: what containers wrote (upper), then the image's, bottom first",
        "レイヤ: コンテナが書いたもの (upper)、次にイメージのレイヤ (下から順に)";
    T_NET = "Network (ip -br link, ip -br addr, ip route)", "ネットワーク (ip -br link, ip -br addr, ip route)";
}

/// A view's title in every language.
pub fn title(view: View) -> crate::i18n::Msg {
    match view {
        View::Namespaces => T_NAMESPACES,
        View::NsInodes => T_NS_INODES,
        View::Status => T_STATUS,
        View::Processes => T_PROCESSES,
        View::Mounts => T_MOUNTS,
        View::IdMaps => T_ID_MAPS,
        View::Caps => T_CAPS,
        View::Cgroups => T_CGROUPS,
        View::Cgroup => T_CGROUP,
        View::Image => T_IMAGE,
        View::Layers => T_LAYERS,
        View::Net => T_NET,
    }
}

/// A view's title in `lang` ([`RenderedView::title`] is the English one).
pub fn title_in(view: View, lang: &str) -> &'static str {
    title(view).get(lang)
}

pub fn render(view: View, subjects: &Subjects) -> RenderedView {
    let lines = match view {
        View::Namespaces => namespaces_view(subjects),
        View::NsInodes => ns_inodes_view(subjects),
        View::Status => status_view(subjects),
        View::Processes => processes_view(subjects),
        View::Mounts => mounts_view(subjects),
        View::IdMaps => id_maps_view(subjects),
        View::Caps => super::caps_view::caps_view(subjects),
        View::Cgroups => cgroups_view(subjects),
        View::Cgroup => {
            let lines = crate::engine::cgroups::view_lines(&subjects.session, &subjects.cgroups);
            if lines.is_empty() {
                vec![W::NO_CGROUP.get(&subjects.lang).into()]
            } else {
                lines
            }
        }
        View::Image => super::image_views::image_view(subjects.image.as_deref(), &subjects.lang),
        View::Layers => {
            use super::image_views::{uppers_view, work_line};
            let lang = subjects.lang.as_str();
            let mut lines: Vec<String> = work_line(&subjects.layers, lang).into_iter().collect();
            // What the containers wrote first: once overlays exist, that is the news.
            lines.extend(uppers_view(
                &overlay_uppers(subjects),
                &subjects.layers,
                lang,
            ));
            lines.extend(super::image_views::layers_view(
                subjects.image.as_deref(),
                &subjects.layers,
                lang,
            ));
            lines
        }
        View::Net => net_view(subjects),
    };
    RenderedView::new(view, lines, &subjects.focus)
}

/// (process, pid, upperdir) of every overlay the lab's processes see, each upper once: a
/// process that shares another's mount namespace shows the same mounts.
fn overlay_uppers(s: &Subjects) -> Vec<(String, i32, String)> {
    let mut out: Vec<(String, i32, String)> = Vec::new();
    // One mountinfo read per mount namespace, named after its first process (the container
    // rather than the sandbox, which `alive` puts last).
    for (_, members) in s.by_mount_ns() {
        let (name, pid) = &members[0];
        for upper in mounts::overlay_uppers(*pid) {
            if !out.iter().any(|(_, _, u)| *u == upper) {
                out.push((name.clone(), *pid, upper));
            }
        }
    }
    out
}

/// The lsns table cut down to what matters: the host's own namespaces and every namespace a lab
/// process is in; `*` marks the ones the lab made.
fn namespaces_view(s: &Subjects) -> Vec<String> {
    namespaces_view_from(s, |_| namespaces::table())
}

/// The namespaces view from `table`, which is asked for the count of the whole machine and told
/// which namespaces (the host's and the lab's) the view will show.
pub(super) fn namespaces_view_from(
    s: &Subjects,
    table: impl FnOnce(&[u64]) -> Vec<namespaces::NsRow>,
) -> Vec<String> {
    let me = std::process::id() as i32;
    let host: Vec<u64> = namespaces::TYPES
        .iter()
        .filter_map(|t| namespaces::ns_inode(me, t))
        .collect();
    let lab: Vec<u64> = s
        .alive()
        .iter()
        .flat_map(|(_, pid)| {
            namespaces::TYPES
                .iter()
                .filter_map(|t| namespaces::ns_inode(*pid, t))
                .collect::<Vec<_>>()
        })
        .collect();
    let wanted: Vec<u64> = host.iter().chain(&lab).copied().collect();
    let rows: Vec<_> = table(&wanted)
        .into_iter()
        .filter(|r| host.contains(&r.ns) || lab.contains(&r.ns))
        .collect();
    let mut lines = namespaces::render(&rows);
    for (line, row) in lines.iter_mut().skip(1).zip(&rows) {
        let mark = if host.contains(&row.ns) { ' ' } else { '*' };
        line.insert(0, mark);
    }
    if let Some(header) = lines.first_mut() {
        header.insert(0, ' ');
    }
    lines.push(W::MADE_BY_LESSON.get(&s.lang).into());
    lines
}

fn ns_inodes_view(s: &Subjects) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut cols = vec![("host".to_string(), me)];
    cols.extend(s.alive());
    let headers: Vec<String> = cols.iter().map(|(n, p)| format!("{n}({p})")).collect();
    // Every column at least two spaces from the next, however long a name or PID: an inode is
    // 10 digits and its mark.
    let widths: Vec<usize> = headers.iter().map(|h| h.len().max(11) + 2).collect();
    let mut lines = vec![std::iter::once(format!("{:<18}", "NS"))
        .chain(headers.iter().zip(&widths).map(|(h, w)| format!("{h:>w$}")))
        .collect::<String>()];
    // The hostname each one sees (what a UTS namespace holds) first, then the namespaces that
    // differ from the host's (the ones a step is about), then the shared ones: a short pane
    // shows what changed without scrolling.
    let mut line = format!("{:<18}", "(hostname)");
    for ((_, pid), w) in cols.iter().zip(&widths) {
        let name = crate::inspect::uts::hostname_of(*pid).unwrap_or_else(|| "-".into());
        let name = crate::inspect::namespaces::truncate(&name, w - 2);
        line.push_str(&format!("{name:>w$}"));
    }
    lines.push(line);
    let (mut differing, mut shared) = (Vec::new(), Vec::new());
    for link in crate::inspect::process::NS_LINKS {
        let host = namespaces::ns_inode(me, link);
        let mut line = format!("{link:<18}");
        let mut differs = false;
        for ((_, pid), w) in cols.iter().zip(&widths) {
            let ino = namespaces::ns_inode(*pid, link);
            let mark = if ino != host { "*" } else { " " };
            differs |= ino != host;
            let cell = ino
                .map(|i| format!("{i}{mark}"))
                .unwrap_or_else(|| "-".into());
            line.push_str(&format!("{cell:>w$}"));
        }
        if differs {
            differing.push(line);
        } else {
            shared.push(line);
        }
    }
    lines.extend(differing);
    lines.extend(shared);
    lines.push(W::DIFFERS_FROM_HOST.get(&s.lang).into());
    lines
}

fn status_view(s: &Subjects) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, pid) in s.alive() {
        let Some(view) = ProcessView::read(pid) else {
            continue;
        };
        lines.push(fill(W::HOST_PID.get(&s.lang), &[&name, &pid]));
        for (k, v) in &view.status {
            if k.starts_with("Cap") {
                continue;
            }
            lines.push(format!("  {k}:\t{v}"));
        }
    }
    lines
}

fn processes_view(s: &Subjects) -> Vec<String> {
    // Two spaces before COMMAND, so a long NSpid list never runs into it.
    let mut lines = vec![format!(
        "{:<12} {:>8} {:<16}  {}",
        "NAME", "HOST PID", "NSpid", "COMMAND"
    )];
    let alive = s.alive();
    let named: Vec<i32> = alive.iter().map(|(_, pid)| *pid).collect();
    let children = process::children_of(&named);
    let child = W::CHILD.get(&s.lang);
    for (name, pid) in &alive {
        process_row(&mut lines, name, *pid);
        // What a lab process started on its own (a daemon, the learner's shell) is in the
        // container too; the lesson gave it no name.
        for kid in children.get(pid).into_iter().flatten() {
            if !named.contains(kid) {
                process_row(&mut lines, child, *kid);
            }
        }
    }
    lines
}

fn process_row(lines: &mut Vec<String>, name: &str, pid: i32) {
    if let Some(view) = ProcessView::read(pid) {
        let nspid: Vec<String> = view.nspid.iter().map(|p| p.to_string()).collect();
        // Padded by display width: a Japanese label is wider than its characters.
        let pad = " ".repeat(12usize.saturating_sub(UnicodeWidthStr::width(name)));
        lines.push(format!(
            "{name}{pad} {pid:>8} {:<16}  {}",
            nspid.join(" "),
            view.command
        ));
    }
}

fn mounts_view(s: &Subjects) -> Vec<String> {
    let me = std::process::id() as i32;
    let host = mounts::mounts_of(me);
    let host_ns = namespaces::ns_inode(me, "mnt");
    let mut lines = Vec::new();
    for (ns, members) in s.by_mount_ns() {
        if ns == host_ns {
            continue;
        }
        // Every lab process in this mount namespace, by name.
        let name = members
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let table = mounts::mounts_of(members[0].1);
        // A chrooted process's / is a directory, not a mount: its mountinfo has no "/" line.
        let root = mounts::mount_at(&table, "/").map_or_else(
            || W::ROOT_NOT_MOUNTED.get(&s.lang).to_string(),
            |m| m.propagation.clone(),
        );
        lines.push(fill(
            W::MOUNT_NS.get(&s.lang),
            &[&name, &ns.unwrap_or(0), &root],
        ));
        let diff = mounts::diff(&host, &table);
        if diff.is_empty() {
            lines.push(W::SAME_MOUNTS.get(&s.lang).into());
        }
        lines.extend(diff.into_iter().map(|d| format!("  {d}")));
    }
    if lines.is_empty() {
        let root = mounts::mount_at(&host, "/")
            .map(|m| m.propagation.clone())
            .unwrap_or_default();
        lines.push(fill(W::SHARES_HOST_MOUNTS.get(&s.lang), &[&root]));
    }
    lines
}

fn id_maps_view(s: &Subjects) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, pid) in s.alive() {
        if let Some(v) = ProcessView::read(pid) {
            lines.push(fill(W::HOST_PID.get(&s.lang), &[&name, &pid]));
            lines.push(format!("  uid_map:   {}", one_line(&v.uid_map)));
            lines.push(format!("  gid_map:   {}", one_line(&v.gid_map)));
            lines.push(format!("  setgroups: {}", v.setgroups));
            lines.push(format!("  Uid: {}", v.field("Uid").unwrap_or("?")));
        }
    }
    lines
}

fn cgroups_view(s: &Subjects) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, pid) in s.alive() {
        if let Some(v) = ProcessView::read(pid) {
            lines.push(fill(W::HOST_PID.get(&s.lang), &[&name, &pid]));
            lines.extend(v.cgroup.lines().map(|l| format!("  {l}")));
        }
    }
    lines
}

fn one_line(s: &str) -> String {
    let parts: Vec<String> = s
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    if parts.is_empty() {
        "(empty)".into()
    } else {
        parts.join("; ")
    }
}

/// `ip -br link`, `ip -br addr` and `ip route` of the host and of every sandbox process with a
/// network namespace of its own. The host's list is cut to `lo` and the lab's `clab*` links, its
/// routes to theirs and its default routes ([`host_routes`]); a note counts what is left out.
fn net_view(s: &Subjects) -> Vec<String> {
    let me = std::process::id() as i32;
    let host_ns = namespaces::ns_inode(me, "net");
    let mut subjects = vec![("host".to_string(), me)];
    subjects.extend(s.alive());
    let mut seen = Vec::new();
    let mut lines = Vec::new();
    for (name, pid) in subjects {
        let ns = namespaces::ns_inode(pid, "net");
        if seen.contains(&ns) || (name != "host" && ns == host_ns) {
            continue;
        }
        seen.push(ns);
        let path = format!("/proc/{pid}/ns/net");
        let snap = match containerlab_net::snapshot(Some(std::path::Path::new(&path))) {
            Ok(s) => s,
            Err(e) => {
                lines.push(format!("── {name}: {e}"));
                continue;
            }
        };
        lines.push(fill(
            W::NET_NS.get(&s.lang),
            &[&name, &pid, &ns.unwrap_or(0)],
        ));
        let mut snap = snap;
        let mut hidden_routes = 0;
        let hidden = if name == "host" {
            let before = snap.links.len();
            snap.links
                .retain(|l| l.name == "lo" || l.name.starts_with(crate::engine::rundir::PREFIX));
            let kept: Vec<u32> = snap.links.iter().map(|l| l.index).collect();
            snap.addresses.retain(|a| kept.contains(&a.index));
            let (shown, others) = host_routes(std::mem::take(&mut snap.routes));
            snap.routes = shown;
            hidden_routes = others;
            before - snap.links.len()
        } else {
            0
        };
        lines.push("  $ ip -br link".into());
        lines.extend(snap.render_ip_link().lines().map(|l| format!("  {l}")));
        if hidden > 0 {
            lines.push(W::count_of_others(
                &W::OTHER_LINK,
                &W::OTHER_LINKS,
                hidden,
                &s.lang,
            ));
        }
        lines.push("  $ ip -br addr".into());
        lines.extend(snap.render_ip_addr().lines().map(|l| format!("  {l}")));
        lines.push("  $ ip route".into());
        let routes = snap.render_ip_route();
        if routes.is_empty() && hidden_routes == 0 {
            lines.push(W::NO_ROUTES.get(&s.lang).into());
        }
        lines.extend(routes.lines().map(|l| format!("  {l}")));
        if hidden_routes > 0 {
            lines.push(W::count_of_others(
                &W::OTHER_ROUTE,
                &W::OTHER_ROUTES,
                hidden_routes,
                &s.lang,
            ));
        }
        listening_lines(pid, name == "host", s, &mut lines);
    }
    lines
}

/// The host's routes the view shows, and how many others it leaves out: every route through
/// the lab's links, and the host's default routes (the way out a container's packets take once
/// the host forwards them: hiding it in a lesson about default routes would mislead); the
/// host's other routes (its LAN, docker0...) are only counted, like its other interfaces.
fn host_routes(routes: Vec<containerlab_net::Route>) -> (Vec<containerlab_net::Route>, usize) {
    let total = routes.len();
    let shown: Vec<_> = routes
        .into_iter()
        .filter(|r| {
            let lab = r
                .dev
                .as_deref()
                .is_some_and(|d| d.starts_with(crate::engine::rundir::PREFIX));
            lab || (r.dst.is_none() && r.dst_len == 0)
        })
        .collect();
    let others = total - shown.len();
    (shown, others)
}

/// `ss -ltnp` for one network namespace. On the host only the sockets of the lab's processes
/// are shown (a published port), the way the host's other interfaces are left out above.
fn listening_lines(pid: i32, host: bool, s: &Subjects, lines: &mut Vec<String>) {
    let lab = &s.pids;
    let sockets = match crate::inspect::sockets::listening(pid) {
        Ok(s) => s,
        Err(e) => {
            lines.push(fill(W::SOCKETS_UNREADABLE.get(&s.lang), &[&e]));
            return;
        }
    };
    let inodes: Vec<u64> = sockets.iter().map(|l| l.inode).collect();
    // On the host only the lab's sockets are shown: only the lab's descriptors need reading.
    let owners = if host {
        let pids: Vec<i32> = lab.values().copied().collect();
        crate::inspect::sockets::owners_among(&inodes, &pids)
    } else {
        crate::inspect::sockets::owners(&inodes)
    };
    let named = |pid: i32, comm: &str| {
        lab.iter()
            .find(|(_, p)| **p == pid)
            .map(|(n, _)| format!("{n} (pid {pid})"))
            .unwrap_or_else(|| format!("{comm} (pid {pid})"))
    };
    let mut shown = Vec::new();
    let mut others = 0;
    for socket in &sockets {
        let holders = owners.get(&socket.inode).cloned().unwrap_or_default();
        let ours = holders.iter().any(|(p, _)| lab.values().any(|l| l == p));
        if host && !ours {
            others += 1;
            continue;
        }
        let by: Vec<String> = holders.iter().map(|(p, c)| named(*p, c)).collect();
        shown.push(format!("  LISTEN {:<21} {}", socket.shown(), by.join(", ")));
    }
    if shown.is_empty() && others == 0 {
        return;
    }
    lines.push("  $ ss -ltnp".into());
    lines.extend(shown);
    if others > 0 {
        lines.push(W::count_of_others(
            &W::OTHER_SOCKET,
            &W::OTHER_SOCKETS,
            others,
            &s.lang,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use containerlab_net::Route;

    fn route(dst: Option<[u8; 4]>, dst_len: u8, via: Option<[u8; 4]>, dev: &str) -> Route {
        Route {
            dst: dst.map(Into::into),
            dst_len,
            kind: "unicast".into(),
            via: via.map(Into::into),
            dev: Some(dev.into()),
            protocol: "kernel".into(),
            scope: "link".into(),
            src: None,
            metric: None,
            linkdown: false,
        }
    }

    #[test]
    fn the_host_shows_its_default_route_and_the_labs_and_counts_the_rest() {
        let default = route(None, 0, Some([10, 0, 2, 2]), "eth0");
        let lan = route(Some([10, 0, 2, 0]), 24, None, "eth0");
        let docker = route(Some([172, 17, 0, 0]), 16, None, "docker0");
        let lab = route(Some([10, 200, 0, 0]), 24, None, "clab-h0");
        let (shown, others) = host_routes(vec![
            default.clone(),
            lan.clone(),
            docker.clone(),
            lab.clone(),
        ]);
        assert_eq!(shown, vec![default.clone(), lab]);
        assert_eq!(others, 2);
        assert_eq!(
            shown[0].render(),
            "default via 10.0.2.2 dev eth0 proto kernel scope link"
        );
        // A host without routes (a fresh network namespace) has nothing to count.
        assert_eq!(host_routes(vec![]), (vec![], 0));
        assert_eq!(host_routes(vec![lan, docker]).1, 2);
    }
}
