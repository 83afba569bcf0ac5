//! What machine a benchmark ran on, for its report: the processor's model and its cores.

/// `(model name, cores)`, e.g. `("AMD EPYC 7B13", 2)`; empty or 0 where it cannot be told.
pub fn processor() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    (model, cores)
}
