package health

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxAgentLine bounds the agent's reply; HAProxy reads one short line too.
const maxAgentLine = 1024

// agentChecker connects to the backend's agent and reads one line (HAProxy
// agent-check; the package documentation lists the words).
type agentChecker struct{ tcpChecker }

func (c *agentChecker) Check(ctx context.Context) Result {
	start := time.Now()
	conn, rtt, err := c.connect(ctx)
	if err != nil {
		return failed(rtt, fmt.Errorf("agent %s: %w", c.addr, err), "cannot connect to agent")
	}
	defer conn.Close()
	defer deadlineFrom(ctx, conn)()
	r := bufio.NewReaderSize(conn, maxAgentLine)
	line, err := r.ReadSlice('\n')
	rtt = time.Since(start)
	// An agent may close instead of sending a newline.
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return failed(rtt, fmt.Errorf("agent %s: reading reply: %w", c.addr, err), "no reply from agent")
	}
	res := parseAgentReply(string(line))
	res.RTT = rtt
	if res.Err != nil {
		res.Err = fmt.Errorf("agent %s: %w", c.addr, res.Err)
	}
	return res
}

// parseAgentReply reads one agent line. Words may come in any order; the
// last state word wins, as in HAProxy.
func parseAgentReply(line string) Result {
	text, reason, _ := strings.Cut(strings.TrimRight(line, "\r\n"), "#")
	reason = strings.TrimSpace(reason)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return r == ',' || unicode.IsSpace(r)
	})
	res := Result{Up: true, Load: -1}
	state := ""
	garbage := func(why string) Result {
		return failed(0, fmt.Errorf("%w: %s in %q", ErrAgentGarbage, why, line), fmt.Sprintf("agent sent %q: %s", line, why))
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "up", "ready", "down", "fail", "stopped", "maint", "drain":
			state = w
		case "load", "cpu":
			if i+1 == len(words) {
				return garbage(w + " without a value")
			}
			i++
			n, err := percent(strings.TrimSuffix(words[i], "%"))
			if err != nil {
				return garbage(err.Error())
			}
			res.Load = n
		default:
			if !strings.HasSuffix(w, "%") {
				return garbage(fmt.Sprintf("unknown word %q", w))
			}
			n, err := percent(strings.TrimSuffix(w, "%"))
			if err != nil {
				return garbage(err.Error())
			}
			res.Load = 100 - n
		}
	}
	if len(words) == 0 {
		return garbage("empty reply")
	}
	res.Detail = "agent: " + strings.Join(words, " ")
	if reason != "" {
		res.Detail += " (" + reason + ")"
	}
	switch state {
	case "down", "fail", "stopped", "maint":
		res.Up = false
		res.Err = fmt.Errorf("%w: %s", ErrAgentDown, state)
	case "drain":
		res.Drain = true
	}
	return res
}

// percent parses 0..100; HAProxy accepts larger weight percentages, which
// say no more about spare capacity than 100 does.
func percent(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	return min(n, 100), nil
}
