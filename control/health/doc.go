// Package health probes backends and tells the control plane, at once, when
// one changes state.
//
// A Checker runs one probe of one kind (tcp, http, https, udp, agent, none;
// one file each) and, for DSR services, optionally a second probe along the
// path the data takes (dsr.go). A Monitor runs one goroutine per target,
// applies rise/fall hysteresis and calls back on every state change.
//
// State machine (keepalived-like): a target starts down (unless
// Spec.InitialUp) and becomes up after Rise consecutive successful probes; an
// up target becomes down after Fall consecutive failures. A successful probe
// whose answer asks for draining (agent "drain") counts as a success for
// Rise/Fall; the target is then in state drain instead of up, and moves
// between up and drain with the agent's answer, without waiting for Rise.
//
// Agent replies follow HAProxy's agent-check: one line of words separated by
// spaces, commas or tabs; "up"/"ready" mean alive, "down"/"fail"/"stopped"/
// "maint" mean down, "drain" means alive but no new flows, "NN%" is the
// capacity the server offers (HAProxy scales the weight by it) and is
// reported as Load = 100-NN, so the least-load scheduler steers by it;
// "load NN" and "cpu NN" report the load directly. Text after "#" is the
// agent's reason and goes to Result.Detail. Anything else marks the target
// down with the reply quoted in Detail.
package health
