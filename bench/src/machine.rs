//! Which machine a report was measured on, read from `/proc`, and when.

pub(crate) fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

fn read_proc(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default().trim().to_owned()
}

pub(crate) fn machine_name() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model().to_lowercase();
    let vendor =
        cpu.split_whitespace().find(|w| !["amd", "intel(r)", "intel", "cpu", "(r)"].contains(w)).unwrap_or("cpu");
    let slug: String = vendor.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{slug}-{cores}core")
}

fn cpu_model() -> String {
    read_proc("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").and_then(|rest| rest.split_once(':')).map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

pub(crate) fn machine_description() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read_proc("/proc/meminfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap_or(0))
        })
        .map_or_else(String::new, |kib| format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0));
    format!(
        "{}, {cores} cores{memory}, Linux {} — shared with other work; wrk, the sandbox and the server share these cores",
        cpu_model(),
        read_proc("/proc/sys/kernel/osrelease")
    )
}
