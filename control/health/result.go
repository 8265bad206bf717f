package health

import "time"

// Result is the outcome of one probe.
type Result struct {
	Up     bool          // the backend answered as a healthy one does
	Drain  bool          // alive, but asks for no new flows
	Load   int           // 0..100 as the agent reports it, -1 unknown
	RTT    time.Duration // time to the answer
	Err    error         // why it is not up
	Detail string        // for the operator: what was seen
}

func failed(rtt time.Duration, err error, detail string) Result {
	return Result{Load: -1, RTT: rtt, Err: err, Detail: detail}
}

func succeeded(rtt time.Duration, detail string) Result {
	return Result{Up: true, Load: -1, RTT: rtt, Detail: detail}
}
