/// Runs `work` and returns its result and how long it took on `clock`.
func timed<T>(on clock: any Clock<Duration>, _ work: () async -> T) async -> (result: T, took: Duration) {
    var result: T?
    let took = await clock.measure { result = await work() }
    return (result!, took)
}
