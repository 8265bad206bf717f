package realserver

import (
	"fmt"
	"net/netip"
)

// Action is one kind of change to the host.
type Action string

const (
	ActionAddAddress    Action = "add-address"
	ActionDeleteAddress Action = "delete-address"
	ActionSetSysctl     Action = "set-sysctl"
	ActionReplaceTable  Action = "replace-nft-table"
	ActionDeleteTable   Action = "delete-nft-table"
)

// Change is one step of a plan. String renders it as the shell command that does the same, so
// a dry run reads as a script an operator could run by hand.
type Change struct {
	Action Action `json:"action"`

	// Addresses.
	Dev    string       `json:"dev,omitempty"`
	Prefix netip.Prefix `json:"prefix,omitzero"`
	NoDAD  bool         `json:"nodad,omitempty"`

	// Sysctls: Key is the slash path under /proc/sys; From is the value found, To the value set.
	Key  string `json:"key,omitempty"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`

	// nftables: the table and, for a replace, the one-line script that builds it.
	Table  NftTable  `json:"-"`
	Script string    `json:"script,omitempty"`
	rules  []NftRule // what Script builds, for hosts that do not speak nft (tests)
}

func (c Change) String() string {
	switch c.Action {
	case ActionAddAddress:
		s := fmt.Sprintf("ip addr add %s dev %s", c.Prefix, c.Dev)
		if c.NoDAD {
			s += " nodad"
		}
		return s
	case ActionDeleteAddress:
		return fmt.Sprintf("ip addr del %s dev %s", c.Prefix, c.Dev)
	case ActionSetSysctl:
		return fmt.Sprintf("sysctl -w %s=%s", sysctlDisplay(c.Key), c.To)
	case ActionReplaceTable, ActionDeleteTable:
		return fmt.Sprintf("nft '%s'", c.Script)
	}
	return string(c.Action)
}
