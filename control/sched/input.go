package sched

import "time"

// Input is what the scheduler knows about one backend of a service.
type Input struct {
	Name        string
	Weight      uint32 // configured; 0 disables the backend
	Up, Drain   bool
	ActiveConns int64         // flows in the dataplane's flow tables
	ByteRate    float64       // bytes per second, both directions
	Load        int           // 0..100 as the agent reports it, -1 unknown
	RTT         time.Duration // EWMA of check/connect times, 0 unknown
	Since       time.Time     // when it last became up; zero: long ago
}

func (in *Input) eligible() bool { return in.Up && !in.Drain && in.Weight > 0 }
