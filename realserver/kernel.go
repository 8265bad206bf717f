package realserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Kernel reads and changes the host this process runs on: addresses through netlink, sysctls
// through /proc/sys, nftables through the nft tool. Everything it touches belongs to the
// network namespace of the calling process.
type Kernel struct {
	ProcSys string // root of the sysctl tree
	Nft     string // nft binary; empty means look it up in PATH
}

// DefaultKernel is the running host.
func DefaultKernel() *Kernel { return &Kernel{ProcSys: "/proc/sys"} }

func (k *Kernel) nft() (nftTool, bool) {
	if k.Nft != "" {
		return nftTool{k.Nft}, true
	}
	p, err := exec.LookPath("nft")
	if err != nil {
		// Debian keeps nft in /usr/sbin, which a non-login root shell may not have in PATH.
		if _, serr := os.Stat("/usr/sbin/nft"); serr != nil {
			return nftTool{}, false
		}
		p = "/usr/sbin/nft"
	}
	return nftTool{p}, true
}

// Observe reads the links, addresses, DSR sysctls and nftables ruleset.
func (k *Kernel) Observe(ctx context.Context) (Observed, error) {
	var o Observed
	links, err := netlink.LinkList()
	if err != nil {
		return o, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		attrs := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return o, fmt.Errorf("list addresses of %s: %w", attrs.Name, err)
		}
		ol := Link{Name: attrs.Name, Loopback: attrs.Flags&net.FlagLoopback != 0, Up: attrs.Flags&net.FlagUp != 0}
		for _, a := range addrs {
			p, ok := prefixOf(a.IPNet)
			if !ok {
				continue
			}
			ol.Addrs = append(ol.Addrs, Addr{Prefix: p, Tentative: a.Flags&unix.IFA_F_TENTATIVE != 0, DADFailed: a.Flags&unix.IFA_F_DADFAILED != 0})
		}
		o.Links = append(o.Links, ol)
	}

	o.Sysctls = map[string]string{}
	ifaces := []string{"all", "default"}
	for _, l := range o.Links {
		ifaces = append(ifaces, l.Name)
	}
	for _, iface := range ifaces {
		for _, knob := range []string{knobArpIgnore, knobArpAnnounce, knobRPFilter} {
			key := confKey(iface, knob)
			v, err := os.ReadFile(filepath.Join(k.ProcSys, key))
			if errors.Is(err, fs.ErrNotExist) {
				continue // an interface without IPv4 configuration
			}
			if err != nil {
				return o, fmt.Errorf("read sysctl %s: %w", sysctlDisplay(key), err)
			}
			o.Sysctls[key] = strings.TrimSpace(string(v))
		}
	}

	nft, ok := k.nft()
	if !ok {
		return o, nil
	}
	o.NftAvailable = true
	if o.NftTables, o.NftRules, err = nft.list(ctx); err != nil {
		return o, fmt.Errorf("read nftables: %w", err)
	}
	return o, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// Apply makes one change.
func (k *Kernel) Apply(ctx context.Context, c Change) error {
	switch c.Action {
	case ActionAddAddress, ActionDeleteAddress:
		link, err := netlink.LinkByName(c.Dev)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: c.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(c.Prefix.Bits(), c.Prefix.Addr().BitLen())}}
		if c.NoDAD {
			a.Flags |= unix.IFA_F_NODAD
		}
		if c.Action == ActionAddAddress {
			err = netlink.AddrAdd(link, a)
		} else {
			err = netlink.AddrDel(link, a)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	case ActionSetSysctl:
		// O_WRONLY without O_CREATE: a key that does not exist is an error, never a new file.
		f, err := os.OpenFile(filepath.Join(k.ProcSys, c.Key), os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		_, werr := f.WriteString(c.To + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("%s: %w", c, werr)
		}
	case ActionReplaceTable, ActionDeleteTable:
		nft, ok := k.nft()
		if !ok {
			return ErrNftMissing
		}
		return nft.apply(ctx, c.Script)
	default:
		return fmt.Errorf("unknown change %q", c.Action)
	}
	return nil
}
