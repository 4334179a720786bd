//! Reading what the kernel counts for a cgroup.
//!
//! The kernel keeps live counters in the same directory as the limits: how much memory is charged
//! now (`memory.current`, v1 `memory.usage_in_bytes`), how often the limit was hit (v2
//! `memory.events` `max`, v1 `memory.failcnt`), how many processes the OOM killer has killed
//! (`oom_kill`), how many processes exist (`pids.current`) and how much CPU time they used.
//! Reading changes nothing, so none of this goes into the trace.

use crate::detect::Version;
use crate::error::Result;
use crate::fsops;
use crate::lab::LabCgroup;
use nix::unistd::Pid;
use std::collections::BTreeMap;

impl LabCgroup {
    /// Bytes of memory charged to the cgroup now.
    pub fn memory_current(&self) -> Result<u64> {
        fsops::read_u64(&self.memory.file(match self.memory.version {
            Version::V2 => "memory.current",
            Version::V1 => "memory.usage_in_bytes",
        }))
    }

    /// The highest charge seen (v2 `memory.peak`, kernel ≥ 5.19; v1 `memory.max_usage_in_bytes`).
    /// `None` when this kernel does not keep it.
    pub fn memory_peak(&self) -> Result<Option<u64>> {
        let f = self.memory.file(match self.memory.version {
            Version::V2 => "memory.peak",
            Version::V1 => "memory.max_usage_in_bytes",
        });
        if !f.exists() {
            return Ok(None);
        }
        fsops::read_u64(&f).map(Some)
    }

    /// The memory limit; `None` means unlimited.
    pub fn memory_max(&self) -> Result<Option<u64>> {
        fsops::read_limit(&self.memory.file(match self.memory.version {
            Version::V2 => "memory.max",
            Version::V1 => "memory.limit_in_bytes",
        }))
    }

    /// Memory events as v2's `memory.events` names them (`max`, `oom`, `oom_kill`, ...). On v1
    /// they are put together from `memory.failcnt` (as `max`) and `memory.oom_control`
    /// (`oom_kill`).
    pub fn memory_events(&self) -> Result<BTreeMap<String, u64>> {
        match self.memory.version {
            Version::V2 => fsops::read_keyed(&self.memory.file("memory.events")),
            Version::V1 => {
                let oom = fsops::read_keyed(&self.memory.file("memory.oom_control"))?;
                let mut out = BTreeMap::new();
                out.insert("max".to_string(), self.failcnt()?);
                out.insert(
                    "oom_kill".to_string(),
                    oom.get("oom_kill").copied().unwrap_or(0),
                );
                Ok(out)
            }
        }
    }

    /// How many processes the OOM killer killed in this cgroup.
    pub fn oom_kill_count(&self) -> Result<u64> {
        let f = self.memory.file(match self.memory.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        });
        Ok(fsops::read_keyed(&f)?.get("oom_kill").copied().unwrap_or(0))
    }

    /// How many times memory use hit the limit (v1 `memory.failcnt`, v2 `memory.events` `max`).
    pub fn failcnt(&self) -> Result<u64> {
        match self.memory.version {
            Version::V2 => Ok(fsops::read_keyed(&self.memory.file("memory.events"))?
                .get("max")
                .copied()
                .unwrap_or(0)),
            Version::V1 => fsops::read_u64(&self.memory.file("memory.failcnt")),
        }
    }

    /// Processes and threads in the cgroup now.
    pub fn pids_current(&self) -> Result<u64> {
        fsops::read_u64(&self.pids.file("pids.current"))
    }

    /// How many times a fork or clone was refused because pids.max was reached (`max` in
    /// pids.events, the same file in v1 and v2): the kernel's own count, not the program's word.
    pub fn pids_limit_hits(&self) -> Result<u64> {
        Ok(fsops::read_keyed(&self.pids.file("pids.events"))?
            .get("max")
            .copied()
            .unwrap_or(0))
    }

    /// The pids limit; `None` means `max` (unlimited).
    pub fn pids_max(&self) -> Result<Option<u64>> {
        fsops::read_limit(&self.pids.file("pids.max"))
    }

    /// CPU time used by the cgroup's processes, in microseconds (v2 `cpu.stat` `usage_usec`,
    /// v1 `cpuacct.usage` which counts nanoseconds).
    pub fn cpu_usage_usec(&self) -> Result<u64> {
        let d = LabCgroup::require(&self.cpuacct, "cpuacct")?;
        match d.version {
            Version::V2 => {
                let f = d.file("cpu.stat");
                let stat = fsops::read_keyed(&f)?;
                stat.get("usage_usec")
                    .copied()
                    .ok_or_else(|| crate::Error::Parse {
                        path: f,
                        content: format!("{stat:?}"),
                    })
            }
            Version::V1 => Ok(fsops::read_u64(&d.file("cpuacct.usage"))? / 1000),
        }
    }

    /// The cpu controller's `cpu.stat` as a map: on v2 `usage_usec`, `user_usec`, `system_usec`
    /// (plus throttling counts with the cpu controller); on v1 the cpu tree's throttling counts
    /// (`nr_periods`, `nr_throttled`, `throttled_time`), CPU time being in `cpuacct.usage`.
    pub fn cpu_stat(&self) -> Result<BTreeMap<String, u64>> {
        let d = match (&self.cpuacct, &self.cpu) {
            (Some(d), _) if d.version == Version::V2 => d,
            (_, cpu) => LabCgroup::require(cpu, "cpu")?,
        };
        fsops::read_keyed(&d.file("cpu.stat"))
    }

    /// The CPU quota and period as v2's `cpu.max` shows them: `max 100000` when unlimited (v1
    /// shows that as a quota of -1).
    pub fn cpu_max(&self) -> Result<String> {
        let cpu = LabCgroup::require(&self.cpu, "cpu")?;
        match cpu.version {
            Version::V2 => Ok(std::fs::read_to_string(cpu.file("cpu.max"))
                .map_err(|e| crate::Error::io("read", cpu.file("cpu.max"), e))?
                .trim()
                .to_string()),
            Version::V1 => {
                let quota_file = cpu.file("cpu.cfs_quota_us");
                let quota = std::fs::read_to_string(&quota_file)
                    .map_err(|e| crate::Error::io("read", &quota_file, e))?;
                let period = fsops::read_u64(&cpu.file("cpu.cfs_period_us"))?;
                let quota = match quota.trim() {
                    "-1" => "max".to_string(),
                    q => q.to_string(),
                };
                Ok(format!("{quota} {period}"))
            }
        }
    }

    /// How many periods the cgroup's processes were stopped in for having used their quota
    /// (`nr_throttled` in the cpu controller's `cpu.stat`, v1 and v2 alike).
    pub fn cpu_throttled(&self) -> Result<u64> {
        let cpu = LabCgroup::require(&self.cpu, "cpu")?;
        let f = cpu.file("cpu.stat");
        let stat = fsops::read_keyed(&f)?;
        stat.get("nr_throttled")
            .copied()
            .ok_or_else(|| crate::Error::Parse {
                path: f,
                content: format!("{stat:?}"),
            })
    }

    /// The swap setting of the memory controller, as its file says it: v2 `memory.swap.max`
    /// (`max`, or a number of bytes; `0` is no swap at all), v1 `memory.swappiness` (inherited
    /// from the parent, usually 60; `0` means the cgroup's reclaim never swaps anonymous memory).
    /// A v2 kernel without swap accounting has no such file: an error, never a made-up value.
    pub fn swap_setting(&self) -> Result<String> {
        let f = self.memory.file(match self.memory.version {
            Version::V2 => "memory.swap.max",
            Version::V1 => "memory.swappiness",
        });
        Ok(fsops::read(&f)?.trim().to_string())
    }

    /// The controllers that work in this cgroup. On v2, its own `cgroup.controllers`: the kernel
    /// lists there exactly what the parent's `cgroup.subtree_control` hands down. On v1 every
    /// controller has a tree of its own, so it is the controllers of the trees this cgroup has a
    /// directory in.
    pub fn controllers(&self) -> Result<Vec<String>> {
        if self.memory.version == Version::V2 {
            let text = fsops::read(&self.memory.file("cgroup.controllers"))?;
            return Ok(text.split_whitespace().map(str::to_string).collect());
        }
        let mut names = Vec::new();
        let dirs = [
            ("memory", Some(&self.memory)),
            ("pids", Some(&self.pids)),
            ("cpu", self.cpu.as_ref()),
            ("cpuacct", self.cpuacct.as_ref()),
        ];
        for (name, dir) in dirs {
            if dir.is_some_and(|d| d.version == Version::V1 && d.path.is_dir()) {
                names.push(name.to_string());
            }
        }
        Ok(names)
    }

    /// The processes in the cgroup (its memory hierarchy's `cgroup.procs`).
    pub fn procs(&self) -> Result<Vec<Pid>> {
        Ok(fsops::read_procs(&self.memory.file("cgroup.procs"))?
            .into_iter()
            .map(Pid::from_raw)
            .collect())
    }

    /// The cgroup's interesting files and their contents, for a live view; files this kernel
    /// does not have are left out. Names are the file names the learner would `cat`.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut wanted: Vec<(&crate::lab::Dir, &str)> = Vec::new();
        let m = &self.memory;
        let names: &[&str] = match m.version {
            Version::V2 => &[
                "memory.max",
                "memory.swap.max",
                "memory.current",
                "memory.peak",
                "memory.events",
            ],
            Version::V1 => &[
                "memory.limit_in_bytes",
                "memory.memsw.limit_in_bytes",
                "memory.swappiness",
                "memory.usage_in_bytes",
                "memory.max_usage_in_bytes",
                "memory.failcnt",
                "memory.memsw.failcnt",
                "memory.oom_control",
            ],
        };
        wanted.extend(names.iter().map(|n| (m, *n)));
        wanted.push((&self.pids, "pids.max"));
        wanted.push((&self.pids, "pids.current"));
        if self.pids.version == Version::V2 {
            wanted.push((&self.pids, "pids.events"));
        }
        if let Some(d) = &self.cpuacct {
            wanted.push((
                d,
                match d.version {
                    Version::V2 => "cpu.stat",
                    Version::V1 => "cpuacct.usage",
                },
            ));
        }
        if let Some(d) = &self.cpu {
            match d.version {
                Version::V2 => wanted.push((d, "cpu.max")),
                Version::V1 => {
                    wanted.push((d, "cpu.cfs_quota_us"));
                    wanted.push((d, "cpu.cfs_period_us"));
                    wanted.push((d, "cpu.stat"));
                }
            }
        }
        wanted.push((m, "cgroup.procs"));
        wanted
            .into_iter()
            .filter_map(|(d, name)| {
                let text = std::fs::read_to_string(d.file(name)).ok()?;
                Some((name.to_string(), text.trim_end().to_string()))
            })
            .collect()
    }
}
