// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <stdlib.h>
#include <kilo/kilo.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Granularity is how a mesh groups nodes into segments: "location", "full"
// or "cross"; "" in SolveOptions keeps the mesh's own.
type Granularity string

const (
	GranularityLocation Granularity = "location"
	GranularityFull     Granularity = "full"
	GranularityCross    Granularity = "cross"
)

// SolveOptions are the options of Mesh.Solve; the zero value (or nil) means
// the library's defaults.
type SolveOptions struct {
	// PrivateKey is the local node's key, printed in Config; nil: none.
	PrivateKey *Key
	// Port is the listen port; 0: the mesh settings' port.
	Port uint16
	// With OverrideKeepalive, every peer of the local config gets
	// PersistentKeepalive (whole seconds) instead of the node's own.
	OverrideKeepalive   bool
	PersistentKeepalive time.Duration
	// When Now is not zero, nodes last seen ReadyWindow or more before it
	// are left out.
	Now time.Time
	// Granularity overrides the mesh's when not "".
	Granularity Granularity
	// ReadyWindow is the liveness window; 0: Kilo's 60 seconds.
	ReadyWindow time.Duration
	// RemoteReadyGrace keeps nodes of other locations ready this much longer.
	RemoteReadyGrace time.Duration
}

// Topology is a mesh solved for one node, or from outside the mesh. It is
// read-only and may be shared between goroutines.
type Topology struct {
	mu       sync.RWMutex // write-locked only to close
	c        *C.kilo_topology
	mesh     *Mesh // kept alive: the C topology points into it
	isLeader bool
}

func seconds(d time.Duration) C.uint32_t { return C.uint32_t(d / time.Second) }

// Solve solves the mesh for the node named node, or from outside the mesh
// (what `kgctl graph` shows) when node is "". opts may be nil.
func (m *Mesh) Solve(node string, opts *SolveOptions) (*Topology, error) {
	if opts == nil {
		opts = &SolveOptions{}
	}
	var copts C.struct_kilo_solve_opts
	var cerr C.struct_kilo_error
	var allocs cAllocs
	defer allocs.free()
	copts.sz = C.sizeof_struct_kilo_solve_opts
	copts.hostname = allocs.str(node)
	copts.port = C.uint16_t(opts.Port)
	copts.override_keepalive = C.bool(opts.OverrideKeepalive)
	copts.persistent_keepalive = seconds(opts.PersistentKeepalive)
	if !opts.Now.IsZero() {
		copts.now = C.int64_t(opts.Now.Unix())
	}
	if opts.Granularity != "" {
		g, err := parseGranularity(opts.Granularity)
		if err != nil {
			return nil, err
		}
		copts.override_granularity = true
		copts.granularity = g
	}
	copts.ready_window = seconds(opts.ReadyWindow)
	copts.remote_ready_grace = seconds(opts.RemoteReadyGrace)
	if opts.PrivateKey != nil {
		opts.PrivateKey.mu.RLock()
		defer opts.PrivateKey.mu.RUnlock()
		if opts.PrivateKey.c == nil {
			return nil, closedError("private key")
		}
		copts.private_key = opts.PrivateKey.c
	}

	var t *Topology
	err := m.read(func(c *C.kilo_mesh) error {
		var ct *C.kilo_topology
		if r := C.kilo_topology_solve(c, &copts, &ct, &cerr); r < 0 {
			return newError(r, &cerr, "solve")
		}
		m.refs.Add(1)
		t = &Topology{c: ct, mesh: m, isLeader: bool(C.kilo_topology_is_leader(ct))}
		return nil
	})
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(t, (*Topology).Close)
	return t, nil
}

func parseGranularity(g Granularity) (C.enum_kilo_granularity, error) {
	var out C.enum_kilo_granularity
	var cerr C.struct_kilo_error
	text := C.CString(string(g))
	defer C.free(unsafe.Pointer(text))
	if r := C.kilo_granularity_parse(text, &out, &cerr); r < 0 {
		return 0, newError(r, &cerr, "granularity")
	}
	return out, nil
}

// Close releases the topology (and the mesh, if it was closed and this was
// its last topology). Closing twice is harmless.
func (t *Topology) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.c != nil {
		C.kilo_topology_free(t.c)
		t.c = nil
		t.mesh.unref()
	}
	runtime.SetFinalizer(t, nil)
	return nil
}

func (t *Topology) read(f func(c *C.kilo_topology) error) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.c == nil {
		return closedError("topology")
	}
	return f(t.c)
}

// IsLeader says whether the local node leads its segment (only leaders run
// tunnels); false for the view from outside.
func (t *Topology) IsLeader() bool { return t.isLeader }

// Config returns the node's WireGuard configuration as Kilo prints it; it
// holds the private key when Solve was given one.
func (t *Topology) Config() (string, error) {
	return t.config("conf", func(c *C.kilo_topology, out **C.kilo_wg_config, cerr *C.struct_kilo_error) C.int {
		return C.kilo_topology_conf(c, out, cerr)
	})
}

// PeerConfig returns the WireGuard configuration of the peer named name
// (every segment, then every other peer), as `kgctl showconf peer` prints it.
func (t *Topology) PeerConfig(name string) (string, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return t.config("peer "+name, func(c *C.kilo_topology, out **C.kilo_wg_config, cerr *C.struct_kilo_error) C.int {
		return C.kilo_topology_peer_conf(c, cname, out, cerr)
	})
}

func (t *Topology) config(what string, make func(*C.kilo_topology, **C.kilo_wg_config, *C.struct_kilo_error) C.int) (string, error) {
	var text string
	err := t.read(func(c *C.kilo_topology) error {
		var cerr C.struct_kilo_error
		var config *C.kilo_wg_config
		var out *C.char
		if r := make(c, &config, &cerr); r < 0 {
			return newError(r, &cerr, what)
		}
		defer C.kilo_wg_config_free(config)
		if r := C.kilo_wg_config_format(config, &out, &cerr); r < 0 {
			return newError(r, &cerr, what)
		}
		text = takeSecret(out)
		return nil
	})
	return text, err
}

// Graph returns the topology as GraphViz DOT, as `kgctl graph` prints it.
func (t *Topology) Graph() (string, error) {
	var text string
	err := t.read(func(c *C.kilo_topology) error {
		var cerr C.struct_kilo_error
		var out *C.char
		if r := C.kilo_topology_dot(c, &out, &cerr); r < 0 {
			return newError(r, &cerr, "graph")
		}
		text = takeString(out)
		return nil
	})
	return text, err
}

// Segments returns how many segments (WireGuard peers of the mesh) the topology has.
func (t *Topology) Segments() (int, error) {
	var n int
	err := t.read(func(c *C.kilo_topology) error {
		n = int(C.kilo_topology_segment_count(c))
		return nil
	})
	return n, err
}
