// The rollouts run real hosts and sockets at a fixed rate, and the traffic wait reads arrival statistics: one at a time, so a
// run's timings are its own (and the 2 x 1 time in the package README is what a test suite sees).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
